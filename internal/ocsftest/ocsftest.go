// Package ocsftest checks events against the OCSF schema in tests: the
// subset of OCSF 1.8.0 that siemsync emits (API Activity 6003, Scheduled
// Job Activity 1006), built from the OCSF schema sources by
// testdata/gen.py, as a JSON Schema validated with
// santhosh-tekuri/jsonschema.
package ocsftest

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/ocsf-1.8.0-subset.schema.json
var schemaJSON []byte

const schemaURL = "https://siemsync.example/ocsf-1.8.0-subset.schema.json"

var (
	once     sync.Once
	compiled *jsonschema.Schema
	errLoad  error
)

func schema() (*jsonschema.Schema, error) {
	once.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
		if err != nil {
			errLoad = fmt.Errorf("read the OCSF schema subset: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(schemaURL, doc); err != nil {
			errLoad = fmt.Errorf("add the OCSF schema subset: %w", err)
			return
		}
		compiled, errLoad = c.Compile(schemaURL)
	})
	return compiled, errLoad
}

// Validate checks one OCSF event (the JSON object, not the HEC envelope):
// nil when it is a valid API Activity or Scheduled Job Activity event.
func Validate(event []byte) error {
	s, err := schema()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(event))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}
