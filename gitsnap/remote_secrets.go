package gitsnap

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
)

// secretPatterns are base names that usually hold credentials.
var secretPatterns = []string{".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "id_rsa", "id_ecdsa", "id_ed25519", "*.kdbx"}

// secretTemplates are suffixes of files that look like secrets but are
// templates (".env.example").
var secretTemplates = []string{".example", ".sample", ".template", ".dist", ".pub"}

// SecretLooking reports whether a slash-separated path names a file that
// usually holds credentials: .env files, private keys, keystores.
func SecretLooking(p string) bool {
	base := path.Base(p)
	for _, t := range secretTemplates {
		if strings.HasSuffix(base, t) {
			return false
		}
	}
	for _, pat := range secretPatterns {
		if ok, _ := path.Match(pat, base); ok {
			return true
		}
	}
	return false
}

// SecretsSetting is the git config variable that silences the secret
// warning for every remote (snap.<remote>.allowSecrets does it for one).
const SecretsSetting = "snap.allowSecrets"

// announceSecrets warns, before the first push of them to this remote, about
// secret-looking files in the snapshots about to be sent, naming the files
// and the setting that silences the warning. Files already announced for
// the remote are remembered in git config (snap.<remote>.warnedSecret), so
// each is announced once.
func (s *Snap) announceSecrets(ctx context.Context, remote Remote, refs []Ref, warn func(string), res *PushResult) error {
	if len(refs) == 0 || configTrue(s.repo, SecretsSetting) || configTrue(s.repo, "snap."+remote.Key+".allowSecrets") {
		return nil
	}
	found := map[string]bool{}
	for _, r := range refs {
		m, _, err := readManifest(ctx, s.repo, r.Hash)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.TrimPrefix(r.Name, SnapshotRefPrefix), err)
		}
		for _, a := range m.Artifacts {
			if a.Scope != ScopeDatabase && SecretLooking(a.Path) {
				found[a.Path] = true
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	g := gitTransport{dir: s.repo.Root()}
	key := "snap." + remote.Key + ".warnedSecret"
	out, _, err := g.run(ctx, nil, "config", "--get-all", key)
	if err != nil && exitStatus(err) != 1 {
		return fmt.Errorf("read git config %s: %w", key, err)
	}
	for _, f := range strings.Split(out, "\n") {
		delete(found, f)
	}
	if len(found) == 0 {
		return nil
	}
	files := make([]string, 0, len(found))
	for f := range found {
		files = append(files, f)
	}
	sort.Strings(files)
	msg := fmt.Sprintf("the snapshots about to be pushed to %s hold secret-looking files: %s\n"+
		"anyone who can read %s can read them. This is shown once per file and remote; "+
		"silence it with: git config %s true", remote.Name, strings.Join(files, ", "), remote.Name, SecretsSetting)
	if warn != nil {
		warn(msg)
	} else {
		s.progress.Event(ProgressEvent{Kind: "warning", Message: msg})
	}
	res.Secrets = files
	for _, f := range files {
		if _, stderr, err := g.run(ctx, nil, "config", "--add", key, f); err != nil {
			return fmt.Errorf("record the secret warning in git config %s: %w: %s", key, err, strings.TrimSpace(stderr))
		}
	}
	return nil
}

func configTrue(c ConfigReader, key string) bool {
	v, ok := c.ConfigValue(key)
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1", "":
		// A bare "key" line in git config means true.
		return true
	}
	return false
}
