package gitsnap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Lockfile formats compared at package level. Anything else gets a text
// diff.
const (
	LockGoSum       = "go.sum"
	LockNPM         = "package-lock.json"
	LockPoetry      = "poetry.lock"
	LockCargo       = "Cargo.lock"
	LockUV          = "uv.lock"
	LockComposer    = "composer.lock"
	LockPipfile     = "Pipfile.lock"
	npmShrinkwrap   = "npm-shrinkwrap.json"
	npmModulesInfix = "node_modules/"
)

// lockfileKind returns the lockfile format of a path by its base name, or "".
func lockfileKind(p string) string {
	switch base := path.Base(p); base {
	case LockGoSum, LockNPM, LockPoetry, LockCargo, LockUV, LockComposer, LockPipfile:
		return base
	case npmShrinkwrap:
		return LockNPM
	}
	return ""
}

// lockPackages maps a package name to its versions (several when a lockfile
// holds more than one version of a package).
type lockPackages = map[string][]string

// parseLockfile reads the packages of a lockfile of the given kind.
func parseLockfile(kind string, data []byte) (lockPackages, error) {
	var (
		p   lockPackages
		err error
	)
	switch kind {
	case LockGoSum:
		p, err = parseGoSum(data)
	case LockNPM:
		p, err = parseNPMLock(data)
	case LockPoetry, LockCargo, LockUV:
		p, err = parseTOMLLock(data)
	case LockComposer:
		p, err = parseComposerLock(data)
	case LockPipfile:
		p, err = parsePipfileLock(data)
	default:
		return nil, fmt.Errorf("no parser for %s", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", kind, err)
	}
	for name, vs := range p {
		sort.Slice(vs, func(i, j int) bool {
			if c := compareVersions(vs[i], vs[j]); c != 0 {
				return c < 0
			}
			return vs[i] < vs[j]
		})
		p[name] = dedupeSorted(vs)
	}
	return p, nil
}

// parseGoSum reads "module version hash" lines. A version listed only as
// "version/go.mod" was needed for its go.mod alone; such versions count
// only for modules that have no version with a full content hash, so that
// an upgrade that leaves the old go.mod line behind reads as an upgrade.
func parseGoSum(data []byte) (lockPackages, error) {
	full, modOnly := lockPackages{}, lockPackages{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !strings.HasPrefix(f[2], "h") {
			return nil, fmt.Errorf("line %d: want \"module version hash\"", n)
		}
		if v, ok := strings.CutSuffix(f[1], "/go.mod"); ok {
			modOnly[f[0]] = append(modOnly[f[0]], v)
		} else {
			full[f[0]] = append(full[f[0]], f[1])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for m, vs := range modOnly {
		if _, ok := full[m]; !ok {
			full[m] = vs
		}
	}
	return full, nil
}

// parseNPMLock reads package-lock.json: lockfileVersion 2 and 3 list
// "packages" by install path ("node_modules/a/node_modules/@s/b"); version
// 1 nests "dependencies". Workspace folders and links are left out.
func parseNPMLock(data []byte) (lockPackages, error) {
	type dep struct {
		Version      string          `json:"version"`
		Link         bool            `json:"link"`
		Dependencies json.RawMessage `json:"dependencies"`
	}
	var lock struct {
		LockfileVersion int             `json:"lockfileVersion"`
		Packages        map[string]dep  `json:"packages"`
		Dependencies    json.RawMessage `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, err
	}
	out := lockPackages{}
	if lock.LockfileVersion >= 2 || lock.Packages != nil {
		for key, d := range lock.Packages {
			i := strings.LastIndex(key, npmModulesInfix)
			if i < 0 || d.Link || d.Version == "" {
				continue
			}
			name := key[i+len(npmModulesInfix):]
			out[name] = append(out[name], d.Version)
		}
		return out, nil
	}
	var walk func(raw json.RawMessage, depth int) error
	walk = func(raw json.RawMessage, depth int) error {
		if len(raw) == 0 || depth > 64 {
			return nil
		}
		var deps map[string]dep
		if err := json.Unmarshal(raw, &deps); err != nil {
			return err
		}
		for name, d := range deps {
			if d.Version != "" {
				out[name] = append(out[name], d.Version)
			}
			if err := walk(d.Dependencies, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(lock.Dependencies, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// parseTOMLLock reads the [[package]] tables (name, version) of
// poetry.lock, Cargo.lock and uv.lock.
func parseTOMLLock(data []byte) (lockPackages, error) {
	var lock struct {
		Package []struct {
			Name    string `toml:"name"`
			Version string `toml:"version"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(string(data), &lock); err != nil {
		return nil, err
	}
	out := lockPackages{}
	for _, p := range lock.Package {
		if p.Name == "" {
			return nil, fmt.Errorf("a [[package]] has no name")
		}
		out[p.Name] = append(out[p.Name], p.Version)
	}
	return out, nil
}

// parseComposerLock reads composer.lock's "packages" and "packages-dev".
func parseComposerLock(data []byte) (lockPackages, error) {
	type pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	var lock struct {
		Packages    []pkg `json:"packages"`
		PackagesDev []pkg `json:"packages-dev"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, err
	}
	out := lockPackages{}
	for _, p := range append(lock.Packages, lock.PackagesDev...) {
		out[p.Name] = append(out[p.Name], p.Version)
	}
	return out, nil
}

// parsePipfileLock reads Pipfile.lock's "default" and "develop" sections
// ("version": "==2.31.0").
func parsePipfileLock(data []byte) (lockPackages, error) {
	type pkg struct {
		Version string `json:"version"`
	}
	var lock struct {
		Default map[string]pkg `json:"default"`
		Develop map[string]pkg `json:"develop"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, err
	}
	out := lockPackages{}
	for _, sec := range []map[string]pkg{lock.Default, lock.Develop} {
		for name, p := range sec {
			out[name] = append(out[name], strings.TrimPrefix(p.Version, "=="))
		}
	}
	return out, nil
}

func dedupeSorted(vs []string) []string {
	out := vs[:0]
	for i, v := range vs {
		if i == 0 || v != vs[i-1] {
			out = append(out, v)
		}
	}
	return out
}
