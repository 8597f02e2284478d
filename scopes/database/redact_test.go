package database

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"postgres url", "postgres://app:s3cret@db.local:5432/app?sslmode=disable", "postgres://app:xxxxx@db.local:5432/app?sslmode=disable"},
		{"url without password", "postgres://app@db.local/app", "postgres://app@db.local/app"},
		{"redis password only", "redis://:s3cret@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"query password", "postgres://h/db?user=a&password=s3cret", "postgres://h/db?user=a&password=xxxxx"},
		{"libpq conninfo", "host=h user=a password=s3cret dbname=x", "host=h user=a password=xxxxx dbname=x"},
		{"libpq quoted", "host=h password='s3 cret' dbname=x", "host=h password=xxxxx dbname=x"},
		{"mysql go dsn", "root:s3cret@tcp(127.0.0.1:3306)/app", "root:xxxxx@tcp(127.0.0.1:3306)/app"},
		{"escaped url password", "mysql://root:p%40ss@h/db", "mysql://root:xxxxx@h/db"},
		{"odd url with @ in password", "postgres://u:p@ss:w@rd@h/db", "postgres://u:xxxxx@h/db"},
		{"plain path", "var/app.db", "var/app.db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.in)
			if got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if strings.Contains(got, "s3cret") || strings.Contains(got, "p%40ss") {
				t.Errorf("Redact(%q) leaks the password: %q", tc.in, got)
			}
		})
	}
}

func TestRedactText(t *testing.T) {
	in := `pg_dump: error: connection to "postgres://app:s3cret@h:5432/app" failed: password=s3cret rejected`
	got := RedactText(in)
	if strings.Contains(got, "s3cret") {
		t.Fatalf("RedactText leaks the password: %q", got)
	}
	if !strings.Contains(got, "postgres://app:xxxxx@h:5432/app") {
		t.Errorf("RedactText lost the host: %q", got)
	}
}
