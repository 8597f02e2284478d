package gitsnap

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Condition is one metric comparison of a --where expression.
type Condition struct {
	Metric string
	Op     string // < <= > >= == !=
	Value  float64
}

// Match reports whether metrics satisfy the condition; a missing metric
// never matches.
func (c Condition) Match(metrics map[string]float64) bool {
	v, ok := metrics[c.Metric]
	if !ok {
		return false
	}
	switch c.Op {
	case "<":
		return v < c.Value
	case "<=":
		return v <= c.Value
	case ">":
		return v > c.Value
	case ">=":
		return v >= c.Value
	case "==":
		return v == c.Value
	case "!=":
		return v != c.Value
	}
	return false
}

var (
	condPattern = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|!=|<|>|=)\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*$`)
	andPattern  = regexp.MustCompile(`(?i)\s+AND\s+|\s*&&\s*`)
)

// ParseWhere parses "p95_ms<100 AND error_rate<=0.01". Conditions are
// joined with AND (or &&); "=" means "==".
func ParseWhere(expr string) ([]Condition, error) {
	var out []Condition
	for _, part := range andPattern.Split(strings.TrimSpace(expr), -1) {
		m := condPattern.FindStringSubmatch(part)
		if m == nil {
			return nil, WithHint(fmt.Errorf("%w: cannot parse condition %q", ErrUsage, strings.TrimSpace(part)),
				"write METRIC OP NUMBER joined by AND, e.g. 'p95_ms<100 AND error_rate<=0.01'; OP is < <= > >= == !=")
		}
		v, _ := strconv.ParseFloat(m[3], 64)
		op := m[2]
		if op == "=" {
			op = "=="
		}
		out = append(out, Condition{Metric: m[1], Op: op, Value: v})
	}
	return out, nil
}

var relPattern = regexp.MustCompile(`^(\d+)([smhdw])$`)

// ParseTimeBound reads a --since/--until value: a relative age ("7d",
// "36h", "30m", "2w") counted back from now, a date ("2026-11-01", local
// midnight), a local date and time ("2026-11-01 14:30" or with T) or RFC 3339.
func ParseTimeBound(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if m := relPattern.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		return now.Add(-time.Duration(n) * unit), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, WithHint(fmt.Errorf("%w: cannot read time %q", ErrUsage, s),
		"use a relative age like 7d, 36h, 30m, 2w, or a date like 2026-11-01 or 2026-11-01T14:30")
}
