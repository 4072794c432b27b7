// Package folder is a small, complete adapter written to be read: a
// connector.Source that reads documents from a folder of FHIR JSON files,
// and a connector.Sink that writes documents into a folder. It is the
// example docs/adapters.md walks through; each contract of package
// connector is kept here in a few lines, with a comment saying why.
//
//	src := folder.NewSource(os.DirFS("provider"), folder.SourceConfig{Name: "Example Clinic"})
//	sink, err := folder.OpenSink("platform")
//	engine, err := connector.New(connector.Config{
//		Store:   st,
//		Sources: map[string]connector.Source{"files": src},
//		Sinks:   map[string]connector.Sink{"folder": sink},
//	})
//
// # The Source
//
// The folder holds one FHIR R4 resource per file, named
// <resourceType>-<id>.json: Patient resources and DocumentReference
// resources whose content is inline (attachment.data, base64). A
// resource's version is its meta.versionId and its update time its
// meta.lastUpdated; both are required. ListDocuments returns a patient's
// DocumentReferences ordered by (lastUpdated, id), PageSize at a time,
// behind an opaque cursor that holds the last (lastUpdated, id) listed, so
// the final cursor of one sync lists only what changed after it. A
// DocumentReference entered-in-error is listed as deleted and does not
// fetch.
//
// A file that is not JSON, or not the resource its name says, is an error
// wrapping connector.ErrPermanent that names the file: retrying cannot fix
// it, so the engine makes the op a dead letter, to replay once the file is
// fixed. Ids that FHIR would not allow, such as "../secrets", are refused
// with connector.ErrInvalid before any file is opened; the Source reads
// through an fs.FS, which cannot name a file outside its root anyway.
//
// # The Sink
//
// The folder it writes looks like this:
//
//	keys.log                          idempotency keys already applied, one a line
//	patients/patient-<hash>.json      a patient
//	documents/document-<hash>.json    a document's metadata
//	documents/document-<hash>.content its content
//
// The sink id of a patient or document is derived from its Ref, so a write
// without a SinkID for a Ref the Sink already holds finds that file and
// updates it, as the contract requires. Every file is written to a
// temporary name, synced and renamed, so a reader (or a crash) never sees
// half a file. An idempotency key is remembered, durably, once its write
// is done; a repeated key returns the first result and writes nothing, so
// a retry after a lost response, or a late replay of an old version's key,
// never overwrites a newer version. Sink ids from callers are checked
// against the form the Sink issues, and all file access goes through an
// os.Root, so no id can reach outside the folder.
//
// Both are safe for concurrent use. Neither logs: the files hold patient
// data, and logs must not.
package folder
