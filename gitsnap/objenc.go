package gitsnap

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Object types as they appear in a loose object header ("blob 12\x00").
const (
	ObjectBlob   = "blob"
	ObjectTree   = "tree"
	ObjectCommit = "commit"
)

// HashObject returns the Git object name of data stored as an object of
// type typ: the SHA-1 of "<typ> <len>\x00<data>", as `git hash-object -t`.
func HashObject(typ string, data []byte) Hash {
	d := sha1.New()
	d.Write(objectHeader(typ, int64(len(data))))
	d.Write(data)
	var h Hash
	d.Sum(h[:0])
	return h
}

func objectHeader(typ string, size int64) []byte {
	b := make([]byte, 0, len(typ)+22)
	b = append(b, typ...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, size, 10)
	return append(b, 0)
}

// SortTreeEntries sorts entries into Git tree order in place: byte order of
// the names, where a directory (or submodule-less tree) compares as if its
// name ended with "/".
func SortTreeEntries(entries []TreeEntry) {
	sort.Slice(entries, func(i, j int) bool {
		return treeSortKey(entries[i]) < treeSortKey(entries[j])
	})
}

func treeSortKey(e TreeEntry) string {
	if e.Mode == ModeDir {
		return e.Name + "/"
	}
	return e.Name
}

// EncodeTree returns the raw tree object for entries, sorted into Git order
// (entries itself is not modified). It rejects what `git fsck --strict`
// rejects: empty, ".", ".." or ".git" names, names with "/" or NUL,
// duplicate names and unknown modes.
func EncodeTree(entries []TreeEntry) ([]byte, error) {
	sorted := make([]TreeEntry, len(entries))
	copy(sorted, entries)
	SortTreeEntries(sorted)
	size := 0
	for i, e := range sorted {
		if err := checkTreeEntry(e); err != nil {
			return nil, err
		}
		if i > 0 && sorted[i-1].Name == e.Name {
			return nil, fmt.Errorf("encode tree: duplicate entry %q", e.Name)
		}
		size += 7 + len(e.Name) + 1 + len(e.Hash)
	}
	buf := make([]byte, 0, size)
	for _, e := range sorted {
		// Modes are written in octal without leading zeros ("40000"), as git
		// does; fsck --strict rejects zero-padded modes.
		buf = strconv.AppendUint(buf, uint64(e.Mode), 8)
		buf = append(buf, ' ')
		buf = append(buf, e.Name...)
		buf = append(buf, 0)
		buf = append(buf, e.Hash[:]...)
	}
	return buf, nil
}

func checkTreeEntry(e TreeEntry) error {
	switch e.Name {
	case "", ".", "..":
		return fmt.Errorf("encode tree: invalid entry name %q", e.Name)
	}
	if strings.ContainsAny(e.Name, "/\x00") || strings.EqualFold(e.Name, ".git") {
		return fmt.Errorf("encode tree: invalid entry name %q", e.Name)
	}
	switch e.Mode {
	case ModeFile, ModeExecutable, ModeSymlink, ModeDir, ModeSubmodule:
	default:
		return fmt.Errorf("encode tree: entry %q has invalid mode %o", e.Name, e.Mode)
	}
	if e.Hash.IsZero() {
		return fmt.Errorf("encode tree: entry %q has a zero object name", e.Name)
	}
	return nil
}

// DecodeTree parses a raw tree object. Entries keep the stored order (Git
// order for any valid tree).
func DecodeTree(data []byte) ([]TreeEntry, error) {
	var entries []TreeEntry
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			return nil, fmt.Errorf("decode tree: missing mode: %w", ErrInvalidFormat)
		}
		mode, err := strconv.ParseUint(string(data[:sp]), 8, 32)
		if err != nil {
			return nil, fmt.Errorf("decode tree: bad mode %q: %w", data[:sp], ErrInvalidFormat)
		}
		data = data[sp+1:]
		nul := bytes.IndexByte(data, 0)
		if nul < 0 || len(data) < nul+1+len(Hash{}) {
			return nil, fmt.Errorf("decode tree: truncated entry: %w", ErrInvalidFormat)
		}
		e := TreeEntry{Name: string(data[:nul]), Mode: uint32(mode)}
		copy(e.Hash[:], data[nul+1:])
		entries = append(entries, e)
		data = data[nul+1+len(Hash{}):]
	}
	return entries, nil
}

// EncodeCommit returns the raw commit object for c: tree, parents, author
// and committer lines (with the signature's own timezone offset), a blank
// line and the message exactly as given.
func EncodeCommit(c *Commit) ([]byte, error) {
	if c.Tree.IsZero() {
		return nil, fmt.Errorf("encode commit: no tree")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "tree %s\n", c.Tree)
	for _, p := range c.Parents {
		if p.IsZero() {
			return nil, fmt.Errorf("encode commit: zero parent")
		}
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	for _, s := range []struct {
		field string
		sig   Signature
	}{{"author", c.Author}, {"committer", c.Committer}} {
		line, err := encodeSignature(s.sig)
		if err != nil {
			return nil, fmt.Errorf("encode commit %s: %w", s.field, err)
		}
		fmt.Fprintf(&b, "%s %s\n", s.field, line)
	}
	b.WriteByte('\n')
	b.WriteString(c.Message)
	return b.Bytes(), nil
}

func encodeSignature(s Signature) (string, error) {
	if strings.ContainsAny(s.Name, "<>\n") || strings.ContainsAny(s.Email, "<>\n") {
		return "", fmt.Errorf("invalid identity %q <%s>", s.Name, s.Email)
	}
	return fmt.Sprintf("%s <%s> %d %s", s.Name, s.Email, s.When.Unix(), s.When.Format("-0700")), nil
}

// DecodeCommit parses a raw commit object. Headers it does not model
// (encoding, gpgsig, mergetag, ...) are skipped.
func DecodeCommit(data []byte) (*Commit, error) {
	c := &Commit{}
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("decode commit: unterminated header: %w", ErrInvalidFormat)
		}
		line := string(data[:nl])
		data = data[nl+1:]
		if line == "" {
			c.Message = string(data)
			break
		}
		key, val, _ := strings.Cut(line, " ")
		var err error
		switch key {
		case "tree":
			c.Tree, err = ParseHash(val)
		case "parent":
			var p Hash
			p, err = ParseHash(val)
			c.Parents = append(c.Parents, p)
		case "author":
			c.Author, err = parseSignature(val)
		case "committer":
			c.Committer, err = parseSignature(val)
		}
		if err != nil {
			return nil, fmt.Errorf("decode commit %s: %w", key, err)
		}
		// Continuation lines of multi-line headers (gpgsig) start with a
		// space and are skipped with their header.
		for len(data) > 0 && data[0] == ' ' {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				data = nil
				break
			}
			data = data[nl+1:]
		}
	}
	if c.Tree.IsZero() {
		return nil, fmt.Errorf("decode commit: no tree: %w", ErrInvalidFormat)
	}
	return c, nil
}

// parseSignature parses "Name <email> 1700000000 +0200".
func parseSignature(s string) (Signature, error) {
	lt := strings.IndexByte(s, '<')
	gt := strings.LastIndexByte(s, '>')
	if lt < 0 || gt < lt {
		return Signature{}, fmt.Errorf("bad signature %q: %w", s, ErrInvalidFormat)
	}
	sig := Signature{Name: strings.TrimSuffix(s[:lt], " "), Email: s[lt+1 : gt]}
	fields := strings.Fields(s[gt+1:])
	if len(fields) == 0 {
		return sig, nil
	}
	sec, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return Signature{}, fmt.Errorf("bad signature time %q: %w", s, ErrInvalidFormat)
	}
	loc := time.UTC
	if len(fields) > 1 {
		if tz, ok := parseTZ(fields[1]); ok {
			loc = tz
		}
	}
	sig.When = time.Unix(sec, 0).In(loc)
	return sig, nil
}

func parseTZ(s string) (*time.Location, bool) {
	if len(s) != 5 || (s[0] != '+' && s[0] != '-') {
		return nil, false
	}
	hh, err1 := strconv.Atoi(s[1:3])
	mm, err2 := strconv.Atoi(s[3:5])
	if err1 != nil || err2 != nil {
		return nil, false
	}
	off := hh*3600 + mm*60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off), true
}
