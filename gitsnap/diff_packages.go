package gitsnap

import (
	"strings"
)

// diffPackages lists package-level changes from a to b, sorted by name.
// Versions present on both sides are ignored; for each package the
// remaining old and new versions are paired in ascending order (an
// upgrade or a downgrade), and what is left over was added or removed.
func diffPackages(a, b lockPackages) []PackageChange {
	var out []PackageChange
	for _, name := range sortedUnion(a, b) {
		olds, news := versionsMinus(a[name], b[name]), versionsMinus(b[name], a[name])
		n := min(len(olds), len(news))
		for i := 0; i < n; i++ {
			out = append(out, PackageChange{Name: name, Change: versionChange(olds[i], news[i]), Old: olds[i], New: news[i]})
		}
		for _, v := range olds[n:] {
			out = append(out, PackageChange{Name: name, Change: PkgRemoved, Old: v})
		}
		for _, v := range news[n:] {
			out = append(out, PackageChange{Name: name, Change: PkgAdded, New: v})
		}
	}
	return out
}

// versionChange says whether going from version from to version to is an
// upgrade, a downgrade, or a change between versions that do not compare
// (no digits: branch names, tags).
func versionChange(from, to string) string {
	if !strings.ContainsAny(from, "0123456789") || !strings.ContainsAny(to, "0123456789") {
		return PkgChanged
	}
	switch c := compareVersions(from, to); {
	case c < 0:
		return PkgUpgraded
	case c > 0:
		return PkgDowngraded
	}
	return PkgChanged
}

// versionsMinus returns the elements of a that are not in b, in a's order.
func versionsMinus(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// compareVersions orders version strings of the common schemes (semver,
// Go pseudo-versions, PEP 440, Cargo, plain numbers and dates): a leading
// "v" is ignored, runs of digits compare as numbers, and a pre-release
// suffix ("-rc1", "b2") sorts before the release it precedes. It returns
// -1, 0 or +1.
func compareVersions(a, b string) int {
	ta, tb := verTokens(strings.TrimPrefix(strings.TrimPrefix(a, "v"), "V")),
		verTokens(strings.TrimPrefix(strings.TrimPrefix(b, "v"), "V"))
	for i := 0; i < len(ta) || i < len(tb); i++ {
		x, y := "", ""
		if i < len(ta) {
			x = ta[i]
		}
		if i < len(tb) {
			y = tb[i]
		}
		if x == y {
			continue
		}
		if verAllDigits(x) && verAllDigits(y) {
			return verCompareNumbers(x, y)
		}
		if rx, ry := verRank(x), verRank(y); rx != ry {
			return verSign(rx - ry)
		}
		return strings.Compare(x, y)
	}
	return 0
}

// verRank orders tokens that are not both numbers: a pre-release marker
// (a "-" or letters) < the end of the version < a separator ("." "+") <
// a number.
func verRank(t string) int {
	switch {
	case t == "":
		return 1
	case verAllDigits(t):
		return 3
	case t[0] == '-' || verLetter(t[0]):
		return 0
	}
	return 2
}

// verTokens splits v into runs of digits, runs of letters and single
// other characters.
func verTokens(v string) []string {
	var out []string
	for i := 0; i < len(v); {
		j := i + 1
		switch {
		case verDigit(v[i]):
			for j < len(v) && verDigit(v[j]) {
				j++
			}
		case verLetter(v[i]):
			for j < len(v) && verLetter(v[j]) {
				j++
			}
		}
		out = append(out, v[i:j])
		i = j
	}
	return out
}

// verCompareNumbers compares two digit strings of any length as numbers.
func verCompareNumbers(x, y string) int {
	x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
	if len(x) != len(y) {
		return verSign(len(x) - len(y))
	}
	return strings.Compare(x, y)
}

func verAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !verDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func verDigit(c byte) bool  { return c >= '0' && c <= '9' }
func verLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func verSign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
