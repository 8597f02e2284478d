package gitsnap

import (
	"fmt"
	"strings"
)

// CheckRefName validates a full reference name for writing, following
// git-check-ref-format(1): it must start with "refs/", and no component may
// be empty, start with ".", end with ".lock", or contain "..", "@{", a
// control character, space, "~", "^", ":", "?", "*", "[" or "\"; the name
// may not end with "/" or ".".
func CheckRefName(name string) error {
	if !strings.HasPrefix(name, "refs/") {
		return fmt.Errorf("invalid ref name %q: must start with refs/", name)
	}
	if strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") {
		return fmt.Errorf("invalid ref name %q: must not end with a slash or a dot", name)
	}
	if strings.Contains(name, "..") || strings.Contains(name, "@{") {
		return fmt.Errorf("invalid ref name %q: must not contain .. or @{", name)
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return fmt.Errorf("invalid ref name %q: must not contain %q", name, c)
		}
	}
	for _, part := range strings.Split(name, "/") {
		switch {
		case part == "":
			return fmt.Errorf("invalid ref name %q: empty component", name)
		case strings.HasPrefix(part, "."):
			return fmt.Errorf("invalid ref name %q: a component starts with a dot", name)
		case strings.HasSuffix(part, ".lock"):
			return fmt.Errorf("invalid ref name %q: component ends with .lock", name)
		}
	}
	return nil
}

// checkReadRefName accepts what CheckRefName accepts plus HEAD and the
// other all-caps pseudo refs (ORIG_HEAD, FETCH_HEAD...) for reading.
func checkReadRefName(name string) error {
	if name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
		return nil
	}
	return CheckRefName(name)
}
