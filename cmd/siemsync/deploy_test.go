package main

// The install path: the release build gives a static binary with the version
// stamped, and the deploy/ examples parse and run real siemsync command lines.

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/siemsync/siemsync/internal/testenv"
)

const repoRoot = "../.."

// TestReleaseBuildIsStatic builds with scripts/release-build (the documented
// command) and checks the ELF file: no interpreter (PT_INTERP) and no shared
// libraries (DT_NEEDED), so it runs on any Linux, in a scratch image; and
// --version prints the stamped version.
func TestReleaseBuildIsStatic(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "siemsync")
	cmd := exec.Command(filepath.Join(repoRoot, "scripts/release-build"), "v9.8.7-test", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release-build: %v\n%s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the release binary has an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the release binary needs shared libraries %v (%v)", libs, err)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("the release binary is not stripped (-s -w)")
	}
	b, err := exec.Command(out, "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "siemsync v9.8.7-test" {
		t.Errorf("--version: %q %v", b, err)
	}
	// The test binary (a plain go build) names its VCS state or "devel".
	b, _ = exec.Command(binary, "--version").CombinedOutput()
	if !strings.HasPrefix(string(b), "siemsync devel") && !strings.HasPrefix(string(b), "siemsync v") {
		t.Errorf("plain build --version: %q", b)
	}
}

// TestSystemdUnit: the unit verifies with systemd-analyze (with ExecStart
// pointed at the test's binary), has the hardening the README promises, and
// its ExecStart is a command line siemsync accepts.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(repoRoot, "deploy/systemd/siemsync.service")
	unit := parseUnit(t, path)
	svc := unit["Service"]
	for k, want := range map[string]string{
		"DynamicUser": "yes", "StateDirectory": "siemsync", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
		"ProtectHome": "yes", "PrivateTmp": "yes", "UMask": "0077", "CapabilityBoundingSet": "",
	} {
		if got, ok := svc[k]; !ok || got[len(got)-1] != want {
			t.Errorf("[Service] %s = %q, want %q", k, got, want)
		}
	}
	exe, args, _ := strings.Cut(svc["ExecStart"][0], " ")
	if exe != "/usr/local/bin/siemsync" {
		t.Errorf("ExecStart runs %q", exe)
	}
	environ := map[string]string{}
	for _, e := range svc["Environment"] {
		k, v, _ := strings.Cut(e, "=")
		environ[k] = v
	}
	if got, code, out := parseOnly(t, strings.Fields(args), environ); code != 0 || got.path != "siemsync serve" ||
		got.flags["db"] != "/var/lib/siemsync/siemsync.db" {
		t.Errorf("ExecStart %q: %s exit %d db %q\n%s", args, got.path, code, got.flags["db"], out)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("systemd-analyze (Debian package systemd): %v", err))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "siemsync.service")
	if err := os.WriteFile(tmp, bytes.ReplaceAll(b, []byte("/usr/local/bin/siemsync"), []byte(binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", tmp).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// parseUnit reads a systemd unit file: section -> key -> values in order.
func parseUnit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]map[string][]string{}
	var section string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			unit[section][k] = append(unit[section][k], v)
		}
	}
	for _, s := range []string{"Unit", "Service", "Install"} {
		if unit[s] == nil {
			t.Fatalf("%s has no [%s] section", path, s)
		}
	}
	return unit
}

// k8sObject is the part of a Kubernetes object the test looks at.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template    podTemplate `yaml:"template"`
		Schedule    string      `yaml:"schedule"`
		JobTemplate struct {
			Spec struct {
				Template podTemplate `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

type podTemplate struct {
	Spec struct {
		Containers []struct {
			Args []string `yaml:"args"`
			Env  []struct {
				Name      string `yaml:"name"`
				Value     string `yaml:"value"`
				ValueFrom *struct {
					SecretKeyRef struct {
						Name string `yaml:"name"`
						Key  string `yaml:"key"`
					} `yaml:"secretKeyRef"`
				} `yaml:"valueFrom"`
			} `yaml:"env"`
			VolumeMounts []struct {
				Name string `yaml:"name"`
			} `yaml:"volumeMounts"`
		} `yaml:"containers"`
		Volumes []struct {
			Name string `yaml:"name"`
			PVC  *struct {
				ClaimName string `yaml:"claimName"`
			} `yaml:"persistentVolumeClaim"`
		} `yaml:"volumes"`
	} `yaml:"spec"`
}

// TestKubernetesExamples: every YAML document parses, the objects the README names are there, the secrets and volumes
// they reference exist, and the containers' args are command lines siemsync
// accepts with the SIEMSYNC_* environment they set.
func TestKubernetesExamples(t *testing.T) {
	t.Parallel()
	objects := map[string]k8sObject{}
	for _, file := range []string{"siemsync.yaml", "cronjob.yaml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/kubernetes", file))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for n := 1; ; n++ {
			var raw map[string]any
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", file, n, err)
			}
			doc, _ := yaml.Marshal(raw)
			var o k8sObject
			if err := yaml.Unmarshal(doc, &o); err != nil {
				t.Fatalf("%s document %d: %v", file, n, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s document %d lacks apiVersion, kind or metadata.name", file, n)
			}
			objects[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	secret, ok := objects["Secret/siemsync"]
	if !ok || secret.StringData["secret-key"] == "" {
		t.Fatalf("no Secret siemsync with a secret-key")
	}
	if _, ok := objects["PersistentVolumeClaim/siemsync-data"]; !ok {
		t.Fatalf("no PersistentVolumeClaim siemsync-data")
	}
	dep := objects["Deployment/siemsync"]
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Spec.Strategy.Type != "Recreate" {
		t.Errorf("the serve Deployment must have one replica and strategy Recreate (one SQLite writer)")
	}
	cron := objects["CronJob/siemsync-sync"]
	if cron.Spec.Schedule == "" {
		t.Errorf("the CronJob has no schedule")
	}
	for name, c := range map[string]struct {
		pod  podTemplate
		path string
	}{"Deployment": {dep.Spec.Template, "siemsync serve"}, "CronJob": {cron.Spec.JobTemplate.Spec.Template, "siemsync sync"}} {
		if len(c.pod.Spec.Containers) != 1 {
			t.Fatalf("%s: %d containers", name, len(c.pod.Spec.Containers))
		}
		ctr := c.pod.Spec.Containers[0]
		environ := map[string]string{}
		for _, e := range ctr.Env {
			environ[e.Name] = e.Value
			if r := e.ValueFrom; r != nil {
				s, ok := objects["Secret/"+r.SecretKeyRef.Name]
				if !ok || s.StringData[r.SecretKeyRef.Key] == "" {
					t.Errorf("%s: env %s refers to a missing secret key %s/%s", name, e.Name, r.SecretKeyRef.Name, r.SecretKeyRef.Key)
				}
				environ[e.Name] = "from-secret"
			}
		}
		if environ["SIEMSYNC_SECRET_KEY"] != "from-secret" {
			t.Errorf("%s: SIEMSYNC_SECRET_KEY does not come from the Secret", name)
		}
		got, code, out := parseOnly(t, ctr.Args, environ)
		if code != 0 || got.path != c.path || got.flags["db"] != "/data/siemsync.db" {
			t.Errorf("%s args %q: ran %q, exit %d, db %q\n%s", name, ctr.Args, got.path, code, got.flags["db"], out)
		}
		for _, m := range ctr.VolumeMounts {
			found := false
			for _, v := range c.pod.Spec.Volumes {
				if v.Name == m.Name && v.PVC != nil {
					_, found = objects["PersistentVolumeClaim/"+v.PVC.ClaimName]
				}
			}
			if !found {
				t.Errorf("%s: volume %s is not a claim the example defines", name, m.Name)
			}
		}
	}
}
