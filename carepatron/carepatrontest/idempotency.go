package carepatrontest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// idempotency remembers, per API key and Idempotency-Key, the request that
// first used the key and the response it got.
type idempotency struct {
	mu   sync.Mutex
	keys map[string]*idemRecord
}

type idemRecord struct {
	fingerprint string
	done        bool
	status      int
	header      http.Header
	body        []byte
}

// idempotent runs serve for a request without an Idempotency-Key, or with
// a key not seen before. A key seen before with the same request replays
// the recorded response; with another request, or while the first is still
// running, it answers 409.
func (s *Server) idempotent(rec *recorder, r *http.Request, body []byte, serve func(http.ResponseWriter)) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || (r.Method != http.MethodPost && r.Method != http.MethodPut) {
		serve(rec)
		return
	}
	scoped := r.Header.Get("cp-api-key") + "\x00" + key
	fp := fingerprint(r, body)

	s.idem.mu.Lock()
	if s.idem.keys == nil {
		s.idem.keys = make(map[string]*idemRecord)
	}
	prev, seen := s.idem.keys[scoped]
	if !seen {
		s.idem.keys[scoped] = &idemRecord{fingerprint: fp}
	}
	s.idem.mu.Unlock()

	switch {
	case seen && prev.fingerprint != fp:
		writeProblem(rec, &problem{status: http.StatusConflict, code: "idempotency_key_reused",
			detail: "this Idempotency-Key was used with another request"})
		return
	case seen && !prev.done:
		writeProblem(rec, &problem{status: http.StatusConflict, code: "idempotency_key_in_use",
			detail: "a request with this Idempotency-Key is still being processed"})
		return
	case seen:
		s.count(func(st *Stats) { st.Replays++ })
		for k, v := range prev.header {
			rec.header[k] = v
		}
		rec.header.Set("Idempotent-Replayed", "true")
		rec.WriteHeader(prev.status)
		_, _ = rec.Write(prev.body)
		return
	}

	serve(rec)

	s.idem.mu.Lock()
	defer s.idem.mu.Unlock()
	if rec.status >= 500 || rec.status == http.StatusTooManyRequests {
		// Nothing was done: the key stays free for a retry.
		delete(s.idem.keys, scoped)
		return
	}
	s.idem.keys[scoped] = &idemRecord{
		fingerprint: fp, done: true, status: rec.status,
		header: rec.header.Clone(), body: slices.Clone(rec.body.Bytes()),
	}
}

// fingerprint identifies a request by what it asks, not how it is encoded:
// JSON by its values, a multipart form by its parts whatever the boundary.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+"\n")
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json":
		h.Write(canonicalJSON(body))
	case mt == "multipart/form-data":
		type part struct{ name, digest string }
		var parts []part
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			ct := p.Header.Get("Content-Type")
			if strings.HasPrefix(ct, "application/json") {
				b = canonicalJSON(b)
			}
			sum := sha256.Sum256(b)
			parts = append(parts, part{p.FormName(), ct + " " + p.FileName() + " " + hex.EncodeToString(sum[:])})
		}
		slices.SortFunc(parts, func(a, b part) int { return strings.Compare(a.name, b.name) })
		for _, p := range parts {
			io.WriteString(h, p.name+"="+p.digest+"\n")
		}
	default:
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func canonicalJSON(b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}
