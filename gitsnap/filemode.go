package gitsnap

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// FileMode is a file's permission bits as recorded in snap.json, written as
// an octal string ("0600") so that people can read the manifest. Git trees
// only know 644/755, so the manifest is where a 0600 .env keeps its mode.
type FileMode fs.FileMode

// Perm returns the permission bits.
func (m FileMode) Perm() fs.FileMode { return fs.FileMode(m).Perm() }

// MarshalJSON writes "0644".
func (m FileMode) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%q", fmt.Sprintf("%04o", uint32(fs.FileMode(m).Perm())))), nil
}

// UnmarshalJSON reads "0644".
func (m *FileMode) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return fmt.Errorf("parse file mode %q: %w", s, ErrInvalidFormat)
	}
	*m = FileMode(v)
	return nil
}

// String returns "0644".
func (m FileMode) String() string { return fmt.Sprintf("%04o", uint32(fs.FileMode(m).Perm())) }
