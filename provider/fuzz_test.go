package provider_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/healthcare-records/healthcare-records/provider"
)

// addSeeds adds the testdata files matching pattern to f's corpus, beside
// the committed corpus in testdata/fuzz.
func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// Decoding never panics, and what decodes keeps its raw JSON.
func FuzzDecodeBundle(f *testing.F) {
	addSeeds(f, "fhir/uscore-bundle-*.json")
	addSeeds(f, "fhir-subscriptions/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := provider.DecodeBundle(data)
		if err != nil {
			return
		}
		if len(b.Raw()) == 0 {
			t.Fatal("decoded bundle without raw json")
		}
		_ = b.NextLink()
		b.Matches()
	})
}

func FuzzDecodeDocumentReference(f *testing.F) {
	addSeeds(f, "fhir/*documentreference*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := provider.DecodeAs[provider.DocumentReference](data)
		if err != nil {
			return
		}
		if d.ResourceType != "DocumentReference" {
			t.Fatalf("decoded %q as a DocumentReference", d.ResourceType)
		}
		d.Date.Time()
		d.Meta.LastUpdated.Time()
		if d.Subject != nil {
			d.Subject.TypeID()
		}
		d.Type.Display()
	})
}

func FuzzParseNotification(f *testing.F) {
	addSeeds(f, "fhir-subscriptions/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := provider.ParseNotification(data)
		if err != nil {
			return
		}
		if n.Type == "" || n.Bundle == nil {
			t.Fatal("notification without type or bundle")
		}
		for _, ev := range n.Events {
			n.Resource(ev.Focus)
		}
	})
}
