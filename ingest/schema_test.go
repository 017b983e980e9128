package ingest_test

// The JSON Schemas in schema/ are the input reference: this test proves that
// they and the parser agree on every sample, valid and invalid, and on the
// example files the README points to.

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/siemsync/siemsync/ingest"
)

func compileSchemas(t *testing.T) (audit, job *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"audit", "job"} {
		path := filepath.Join("..", "schema", name+".schema.json")
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := c.AddResource("https://github.com/siemsync/siemsync/schema/"+name+".schema.json", doc); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if audit, err = c.Compile("https://github.com/siemsync/siemsync/schema/audit.schema.json"); err != nil {
		t.Fatal(err)
	}
	if job, err = c.Compile("https://github.com/siemsync/siemsync/schema/job.schema.json"); err != nil {
		t.Fatal(err)
	}
	return audit, job
}

// lines returns the non-blank lines of a sample file.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no samples", path)
	}
	return out
}

func TestSchemasAgreeWithParser(t *testing.T) {
	t.Parallel()
	auditSchema, jobSchema := compileSchemas(t)
	db := openDB(t)
	type kind struct {
		schema *jsonschema.Schema
		parse  func(line string) error
	}
	kinds := map[string]kind{
		"audit": {auditSchema, func(l string) error {
			_, err := ingest.Audit(t.Context(), db, strings.NewReader(l), ingest.Options{})
			return err
		}},
		"job": {jobSchema, func(l string) error {
			_, err := ingest.Jobs(t.Context(), db, strings.NewReader(l), ingest.Options{})
			return err
		}},
	}
	schemaErr := func(s *jsonschema.Schema, line string) error {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			return err
		}
		return s.Validate(v)
	}
	for _, c := range []struct {
		kind, file string
		valid      bool
	}{
		{"audit", "testdata/schema/audit-valid.ndjson", true},
		{"audit", "testdata/schema/audit-invalid.ndjson", false},
		{"audit", "../examples/audit.ndjson", true},
		{"job", "testdata/schema/job-valid.ndjson", true},
		{"job", "testdata/schema/job-invalid.ndjson", false},
		{"job", "../examples/jobs.ndjson", true},
	} {
		k := kinds[c.kind]
		for i, line := range lines(t, c.file) {
			serr, perr := schemaErr(k.schema, line), k.parse(line)
			if (serr == nil) != c.valid || (perr == nil) != c.valid {
				t.Errorf("%s sample %d, want valid=%v: schema says %v; ingest says %v\n%s", c.file, i+1, c.valid, serr, perr, line)
			}
		}
	}
	// What ingest checks beyond the schema, as the schemas' $comment says:
	// the schema accepts these, ingest refuses them.
	for _, line := range []string{
		`{"time":"2026-11-21T15:04:05Z","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","event":"a","event":"twice"}`,
		`{"time":"0001-01-01T00:00:00+01:00","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","event":"year 0 in UTC"}`,
	} {
		if serr, perr := schemaErr(auditSchema, line), kinds["audit"].parse(line); serr != nil || perr == nil {
			t.Errorf("beyond the schema: schema says %v (want valid), ingest says %v (want an error)\n%s", serr, perr, line)
		}
	}
}
