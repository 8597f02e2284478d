package database

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// myObject is one schema object with, for the programmable ones, the
// statement that recreates it as SHOW CREATE prints it.
type myObject struct {
	kind     string // table, view, trigger, PROCEDURE, FUNCTION, event
	name     string
	sortKey  string // triggers: table.timing.event.order
	sqlMode  string
	timeZone string   // events
	create   string   // SHOW CREATE text
	columns  []string // views: column names, for placeholders
}

// myCatalog lists a schema's objects. Tables include sequences and
// system-versioned tables (anything RENAME TABLE moves); MariaDB packages
// are not handled.
type myCatalog struct {
	tables, views, triggers, routines, events []myObject
}

const myCatalogSQL = `SELECT 'table', TABLE_NAME, '', 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %[1]s AND TABLE_TYPE <> 'VIEW'
UNION ALL SELECT 'view', TABLE_NAME, '', 0 FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %[1]s
UNION ALL SELECT 'column', c.TABLE_NAME, c.COLUMN_NAME, c.ORDINAL_POSITION FROM information_schema.COLUMNS c
  JOIN information_schema.VIEWS v ON v.TABLE_SCHEMA = c.TABLE_SCHEMA AND v.TABLE_NAME = c.TABLE_NAME WHERE c.TABLE_SCHEMA = %[1]s
UNION ALL SELECT 'trigger', TRIGGER_NAME, CONCAT(EVENT_OBJECT_TABLE, '.', ACTION_TIMING, '.', EVENT_MANIPULATION, '.', LPAD(ACTION_ORDER, 9, '0')), 0
  FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %[1]s
UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME, '', 0 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %[1]s AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
UNION ALL SELECT 'event', EVENT_NAME, '', 0 FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %[1]s;
`

// catalog lists db's objects; with definitions it also reads the SHOW
// CREATE text of views, triggers, routines and events (triggersOnly: of
// triggers alone).
func (s *mySession) catalog(ctx context.Context, db string, definitions, triggersOnly bool) (myCatalog, error) {
	rows, err := s.query(ctx, "", fmt.Sprintf(myCatalogSQL, myString(db)))
	if err != nil {
		return myCatalog{}, err
	}
	var c myCatalog
	type col struct {
		pos  int
		name string
	}
	cols := map[string][]col{}
	for _, r := range rows {
		if len(r) < 4 {
			return c, fmt.Errorf("database %s: unexpected catalog row %q", s.label, r)
		}
		o := myObject{kind: r[0], name: r[1], sortKey: r[2]}
		switch r[0] {
		case "table":
			c.tables = append(c.tables, o)
		case "view":
			c.views = append(c.views, o)
		case "column":
			pos, _ := strconv.Atoi(r[3])
			cols[r[1]] = append(cols[r[1]], col{pos, r[2]})
		case "trigger":
			c.triggers = append(c.triggers, o)
		case "PROCEDURE", "FUNCTION":
			c.routines = append(c.routines, o)
		case "event":
			c.events = append(c.events, o)
		}
	}
	for i := range c.views {
		cs := cols[c.views[i].name]
		sort.Slice(cs, func(a, b int) bool { return cs[a].pos < cs[b].pos })
		for _, cl := range cs {
			c.views[i].columns = append(c.views[i].columns, cl.name)
		}
	}
	for _, list := range [][]myObject{c.tables, c.views, c.routines, c.events} {
		sort.Slice(list, func(a, b int) bool { return list[a].kind+list[a].name < list[b].kind+list[b].name })
	}
	sort.Slice(c.triggers, func(a, b int) bool { return c.triggers[a].sortKey < c.triggers[b].sortKey })
	if !definitions {
		return c, nil
	}
	return c, s.readDefinitions(ctx, db, &c, triggersOnly)
}

// readDefinitions runs SHOW CREATE for each object, one result row each,
// in a session whose default database is db (so names in view bodies are
// printed without the schema).
func (s *mySession) readDefinitions(ctx context.Context, db string, c *myCatalog, triggersOnly bool) error {
	var objs []*myObject
	var b strings.Builder
	add := func(list []myObject, show string) {
		for i := range list {
			objs = append(objs, &list[i])
			fmt.Fprintf(&b, "SHOW CREATE %s %s;\n", show, myIdent(list[i].name))
		}
	}
	add(c.triggers, "TRIGGER")
	if !triggersOnly {
		add(c.views, "VIEW")
		for i := range c.routines {
			objs = append(objs, &c.routines[i])
			fmt.Fprintf(&b, "SHOW CREATE %s %s;\n", c.routines[i].kind, myIdent(c.routines[i].name))
		}
		add(c.events, "EVENT")
	}
	if len(objs) == 0 {
		return nil
	}
	rows, err := s.query(ctx, db, b.String())
	if err != nil {
		return err
	}
	if len(rows) != len(objs) {
		return fmt.Errorf("database %s: SHOW CREATE returned %d rows for %d objects", s.label, len(rows), len(objs))
	}
	for i, o := range objs {
		r := rows[i]
		field := func(k int) string {
			if k < len(r) {
				return r[k]
			}
			return ""
		}
		switch o.kind {
		case "view":
			o.create = field(1)
		case "trigger":
			o.sqlMode, o.create = field(1), field(2)
		case "event":
			o.sqlMode, o.timeZone, o.create = field(1), field(2), field(3)
		default:
			o.sqlMode, o.create = field(1), field(2)
		}
		if o.create == "" || o.create == "NULL" {
			return fmt.Errorf("database %s: cannot read the definition of %s %s: permission denied", s.label, strings.ToLower(o.kind), o.name)
		}
	}
	return nil
}

// myScript builds a client script whose statements end with a random
// delimiter, so bodies containing ";" pass through whole.
type myScript struct {
	b     strings.Builder
	delim string
}

func newMyScript(suffix string) *myScript {
	// The client keeps at most 15 delimiter characters.
	s := &myScript{delim: "$$gs" + suffix + "$$"}
	fmt.Fprintf(&s.b, "DELIMITER %s\n", s.delim)
	return s
}

func (s *myScript) stmt(format string, args ...any) {
	fmt.Fprintf(&s.b, format, args...)
	fmt.Fprintf(&s.b, "\n%s\n", s.delim)
}

// create adds o's definition under its own sql_mode (and time zone).
func (s *myScript) create(o myObject) {
	s.stmt("SET SESSION sql_mode = %s", myString(o.sqlMode))
	if o.timeZone != "" {
		s.stmt("SET SESSION time_zone = %s", myString(o.timeZone))
	}
	s.stmt("%s", o.create)
}

func (s *myScript) String() string { return s.b.String() }

// createViews adds the views in any order: first a placeholder per view
// (its columns as NULLs), then the real definitions with CREATE OR
// REPLACE, so a view may use another one, as mysqldump does.
func (s *myScript) createViews(views []myObject) {
	for _, v := range views {
		cols := make([]string, len(v.columns))
		for i, c := range v.columns {
			cols[i] = "NULL AS " + myIdent(c)
		}
		if len(cols) == 0 {
			cols = []string{"NULL AS `x`"}
		}
		s.stmt("CREATE VIEW %s AS SELECT %s", myIdent(v.name), strings.Join(cols, ", "))
	}
	for _, v := range views {
		body := strings.TrimPrefix(v.create, "CREATE ")
		s.stmt("CREATE OR REPLACE %s", body)
	}
}
