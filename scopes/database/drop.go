package database

import (
	"context"
	"fmt"
)

// Drop implements Dropper: it drops the database the target names (a
// drill's sandbox), from the maintenance database.
func (p *Postgres) Drop(ctx context.Context, t Target) error {
	pt, err := resolvePostgres(t)
	if err != nil {
		return err
	}
	maint := "postgres"
	if pt.conn.dbname == maint {
		return fmt.Errorf("database %s: refusing to drop the maintenance database", pt.label)
	}
	return p.drop(ctx, pt, maint, pt.conn.dbname, 0)
}

// Drop implements Dropper for MariaDB/MySQL.
func (m *MySQL) Drop(ctx context.Context, t Target) error {
	s, err := m.open(t)
	if err != nil {
		return err
	}
	defer s.close()
	_, err = s.query(ctx, "", fmt.Sprintf("DROP DATABASE IF EXISTS %s;\n", myIdent(s.conn.dbname)))
	return err
}
