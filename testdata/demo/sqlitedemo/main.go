// Command sqlitedemo is the demo app's database tool (testdata/demo/demo.sh):
// it creates, checks, changes and breaks a small SQLite database with the
// same pure-Go driver git-snap uses, so the demo needs nothing but Go and git.
//
//	sqlitedemo init  DB   create the schema and seed rows
//	sqlitedemo check DB   the app's validation: schema present, rows consistent
//	sqlitedemo order DB   add an order (a normal write)
//	sqlitedemo break DB   drop the orders table (the accident to recover from)
package main

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"

	_ "modernc.org/sqlite"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sqlitedemo:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: sqlitedemo init|check|order|break DB")
	}
	cmd, path := args[0], args[1]
	mode := "rw"
	if cmd == "init" {
		mode = "rwc"
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode="+mode+"&_pragma=busy_timeout(5000)&_pragma=journal_mode(wal)")
	if err != nil {
		return err
	}
	defer db.Close()
	switch cmd {
	case "init":
		return exec(db,
			"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)",
			"INSERT INTO schema_migrations VALUES (1), (2), (3)",
			"CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
			"CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), total_cents INTEGER NOT NULL)",
			"INSERT INTO customers (name) VALUES ('Ada'), ('Grace'), ('Linus')",
			"INSERT INTO orders (customer_id, total_cents) VALUES (1, 1250), (2, 990), (1, 4200)",
		)
	case "order":
		return exec(db, "INSERT INTO orders (customer_id, total_cents) VALUES (3, 1999)")
	case "break":
		return exec(db, "DROP TABLE orders")
	case "check":
		var customers, orders, orphans, version int
		if err := db.QueryRow("SELECT count(*) FROM customers").Scan(&customers); err != nil {
			return fmt.Errorf("check failed: %w", err)
		}
		if err := db.QueryRow("SELECT count(*) FROM orders").Scan(&orders); err != nil {
			return fmt.Errorf("check failed: %w", err)
		}
		if err := db.QueryRow("SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL").Scan(&orphans); err != nil {
			return fmt.Errorf("check failed: %w", err)
		}
		if err := db.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&version); err != nil {
			return fmt.Errorf("check failed: %w", err)
		}
		if customers == 0 || orders == 0 || orphans != 0 {
			return fmt.Errorf("check failed: %d customers, %d orders, %d orphaned orders", customers, orders, orphans)
		}
		fmt.Fprintf(out, "database ok: schema v%d, %d customers, %d orders\n", version, customers, orders)
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}

func exec(db *sql.DB, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
