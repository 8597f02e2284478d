package gitsnap

import "time"

// ConfigFile is the name of the per-repository configuration file.
const ConfigFile = ".gitsnap.toml"

// Config is .gitsnap.toml (see .gitsnap.toml.example and docs/config.md).
// Field names are the user-facing contract.
type Config struct {
	Snapshot     SnapshotConfig     `toml:"snapshot"`
	Config       PathsConfig        `toml:"config"`
	Dependencies DependenciesConfig `toml:"dependencies"`
	Files        []FilesConfig      `toml:"files"`
	Database     []DatabaseConfig   `toml:"database"`
	Check        []CheckConfig      `toml:"check"`
	Restore      RestoreConfig      `toml:"restore"`
	Remote       RemoteConfig       `toml:"remote"`
	Hooks        HooksConfig        `toml:"hooks"`
	Retention    RetentionConfig    `toml:"retention"`

	// Path is the file the config was read from ("" for defaults).
	Path string `toml:"-"`
}

// SnapshotConfig is [snapshot].
type SnapshotConfig struct {
	Scopes       []string `toml:"scopes"`         // what a plain create captures
	TagKnownGood *bool    `toml:"tag_known_good"` // default true
	// Level is how deep create validates by default: health, smoke, full
	// or perf (every check up to and including that kind). Default perf: all.
	Level string `toml:"level"`
}

// PathsConfig is [config]: glob patterns from the repo root.
type PathsConfig struct {
	Paths []string `toml:"paths"`
}

// DependenciesConfig is [dependencies].
type DependenciesConfig struct {
	Lockfiles []string `toml:"lockfiles"` // empty = auto-detect
	Vendor    []string `toml:"vendor"`    // optional vendor directories (globs)
	Install   string   `toml:"install"`   // run with sh -c after lockfiles are restored
}

// FilesConfig is one [[files]] entry.
type FilesConfig struct {
	Name  string   `toml:"name"`
	Paths []string `toml:"paths"`
}

// DatabaseConfig is one [[database]] entry.
type DatabaseConfig struct {
	Name          string `toml:"name"`
	Driver        string `toml:"driver"`
	URLEnv        string `toml:"url_env"`
	Path          string `toml:"path"`
	SchemaVersion string `toml:"schema_version"`
	Dump          string `toml:"dump"`
	RestoreCmd    string `toml:"restore"`
}

// CheckConfig is one [[check]] entry.
type CheckConfig struct {
	Name         string   `toml:"name"`
	Kind         string   `toml:"kind"` // health | smoke | full | perf
	Run          string   `toml:"run"`
	URL          string   `toml:"url"`
	ExpectStatus int      `toml:"expect_status"`
	ExpectBody   string   `toml:"expect_body"`
	Timeout      Duration `toml:"timeout"`
	RetryFor     Duration `toml:"retry_for"`
}

// RestoreConfig is [restore].
type RestoreConfig struct {
	Stop     []string `toml:"stop"`
	Start    []string `toml:"start"`
	Validate *bool    `toml:"validate"` // default true
	// DatabaseSafety is how a restore keeps the databases it replaces:
	// "hold" (the default) keeps each one that can be kept on its server,
	// renamed, and settles it into the safety snapshot after the restore;
	// "dump" dumps every database into the safety snapshot first.
	DatabaseSafety string `toml:"database_safety"`
	// Settle is when a held copy is settled: "background" (the default, a
	// detached git snap settle), "now" (before restore returns) or
	// "manual" (git snap settle).
	Settle string `toml:"settle"`
}

// HoldDatabases reports whether restores keep replaced databases as held copies.
func (r RestoreConfig) HoldDatabases() bool {
	return r.DatabaseSafety == "" || r.DatabaseSafety == "hold"
}

// SettleMode is Settle with its default applied.
func (r RestoreConfig) SettleMode() string {
	if r.Settle == "" {
		return "background"
	}
	return r.Settle
}

// RemoteConfig is [remote].
type RemoteConfig struct {
	Name string `toml:"name"`
}

// HooksConfig is [hooks].
type HooksConfig struct {
	PrePush PrePushConfig `toml:"pre_push"`
}

// PrePushConfig is [hooks.pre_push].
type PrePushConfig struct {
	Require       string   `toml:"require"`
	Branches      []string `toml:"branches"`
	PushSnapshots bool     `toml:"push_snapshots"`
}

// RetentionConfig is [retention].
type RetentionConfig struct {
	KeepLast      int      `toml:"keep_last"`
	KeepHourly    int      `toml:"keep_hourly"`
	KeepDaily     int      `toml:"keep_daily"`
	KeepWeekly    int      `toml:"keep_weekly"`
	KeepMonthly   int      `toml:"keep_monthly"`
	KeepYearly    int      `toml:"keep_yearly"`
	KeepWithin    string   `toml:"keep_within"`
	KeepKnownGood int      `toml:"keep_known_good"`
	KeepTags      []string `toml:"keep_tags"`
}

// Duration is a time.Duration written as "5m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses "30s", "5m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
