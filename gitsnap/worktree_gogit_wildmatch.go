package gitsnap

import "strings"

// wtWildmatch reports whether text matches the glob pattern with the rules
// git uses for ignore patterns (wildmatch with WM_PATHNAME, see
// https://git-scm.com/docs/gitignore#_pattern_format): '*', '?' and bracket
// expressions never match '/', a "**" that forms a whole path component
// matches any number of directories, '\' quotes the next character, and
// bracket expressions accept '!' or '^' for negation, ranges and POSIX
// classes such as [:alpha:]. A malformed pattern matches nothing.
//
// go-git's gitignore package matches components with filepath.Match, which
// reads "[!a]" as a class containing '!', so we do our own matching.
func wtWildmatch(pattern, text string) bool {
	return wtMatchAt(pattern, 0, text, 0)
}

func wtMatchAt(p string, pi int, t string, ti int) bool {
	for pi < len(p) {
		c := p[pi]
		switch c {
		case '?':
			if ti >= len(t) || t[ti] == '/' {
				return false
			}
			pi++
			ti++
		case '*':
			return wtMatchStar(p, pi, t, ti)
		case '[':
			if ti >= len(t) || t[ti] == '/' {
				return false
			}
			ok, next, valid := wtMatchClass(p, pi, t[ti])
			if !valid || !ok {
				return false
			}
			pi = next
			ti++
		case '\\':
			pi++
			if pi >= len(p) {
				return false // a trailing backslash is an invalid pattern
			}
			if ti >= len(t) || t[ti] != p[pi] {
				return false
			}
			pi++
			ti++
		default:
			if ti >= len(t) || t[ti] != c {
				return false
			}
			pi++
			ti++
		}
	}
	return ti == len(t)
}

// wtMatchStar handles a run of '*' starting at p[pi].
func wtMatchStar(p string, pi int, t string, ti int) bool {
	start := pi
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	rest := pi
	wholeComponent := pi-start >= 2 &&
		(start == 0 || p[start-1] == '/') &&
		(rest == len(p) || p[rest] == '/')
	if wholeComponent {
		if rest == len(p) {
			return true // "dir/**" matches everything below
		}
		// "**/" matches zero or more leading directories: try the rest of
		// the pattern at every component start.
		if wtMatchAt(p, rest+1, t, ti) {
			return true
		}
		for i := ti; i < len(t); i++ {
			if t[i] == '/' && wtMatchAt(p, rest+1, t, i+1) {
				return true
			}
		}
		return false
	}
	if rest == len(p) {
		return !strings.Contains(t[ti:], "/")
	}
	for i := ti; i <= len(t); i++ {
		if wtMatchAt(p, rest, t, i) {
			return true
		}
		if i < len(t) && t[i] == '/' {
			return false
		}
	}
	return false
}

// wtMatchClass matches ch against the bracket expression starting at p[pi]
// ('['). It returns whether ch matches, the index after the closing ']' and
// whether the expression is well formed.
func wtMatchClass(p string, pi int, ch byte) (matched bool, next int, valid bool) {
	i := pi + 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(p) {
		c := p[i]
		if c == ']' && !first {
			return matched != negate, i + 1, true
		}
		first = false
		if c == '[' && i+1 < len(p) && p[i+1] == ':' {
			end := strings.Index(p[i+2:], ":]")
			if end < 0 {
				return false, 0, false
			}
			name := p[i+2 : i+2+end]
			in, ok := wtCharClass(name, ch)
			if !ok {
				return false, 0, false
			}
			matched = matched || in
			i += 2 + end + 2
			continue
		}
		if c == '\\' {
			i++
			if i >= len(p) {
				return false, 0, false
			}
			c = p[i]
		}
		lo := c
		i++
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi := p[i+1]
			i += 2
			if hi == '\\' {
				if i >= len(p) {
					return false, 0, false
				}
				hi = p[i]
				i++
			}
			if lo <= ch && ch <= hi {
				matched = true
			}
			continue
		}
		if ch == lo {
			matched = true
		}
	}
	return false, 0, false // no closing ']'
}

// wtCharClass reports whether ch is in the POSIX class name (ASCII only,
// as git's wildmatch).
func wtCharClass(name string, ch byte) (in, known bool) {
	isUpper := 'A' <= ch && ch <= 'Z'
	isLower := 'a' <= ch && ch <= 'z'
	isDigit := '0' <= ch && ch <= '9'
	switch name {
	case "alnum":
		return isUpper || isLower || isDigit, true
	case "alpha":
		return isUpper || isLower, true
	case "blank":
		return ch == ' ' || ch == '\t', true
	case "cntrl":
		return ch < 0x20 || ch == 0x7f, true
	case "digit":
		return isDigit, true
	case "graph":
		return ch > 0x20 && ch < 0x7f, true
	case "lower":
		return isLower, true
	case "print":
		return ch >= 0x20 && ch < 0x7f, true
	case "punct":
		return ch > 0x20 && ch < 0x7f && !isUpper && !isLower && !isDigit, true
	case "space":
		return ch == ' ' || (ch >= '\t' && ch <= '\r'), true
	case "upper":
		return isUpper, true
	case "xdigit":
		return isDigit || ('a' <= ch && ch <= 'f') || ('A' <= ch && ch <= 'F'), true
	}
	return false, false
}
