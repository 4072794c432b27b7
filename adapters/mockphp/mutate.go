package mockphp

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// writeTime is the meta.lastUpdated a write made now gets, after the
// skew and late-commit faults.
func (s *Server) writeTime() time.Time {
	f := s.faults.Load()
	at := s.now().Add(f.LastUpdatedSkew)
	s.writes++
	if f.LateCommitRate > 0 && s.roll("late-commit", s.writes) < f.LateCommitRate {
		by := f.LateCommitBy
		if by == 0 {
			by = 5 * time.Second
		}
		at = at.Add(-by)
		s.log.Info("fault: late commit", "by", by.String())
	}
	return at
}

// create stores res under a new server-assigned id.
func (s *Server) create(res object) (*record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res["id"] = s.newIDLocked()
	return s.commitLocked(res, "")
}

// commit stores res (its id set), as an update or an update-as-create.
func (s *Server) commit(res object, ifMatch string) (*record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked(res, ifMatch)
}

func (s *Server) newIDLocked() string { return uuidFrom(randReader{s.rng}) }

func (s *Server) commitLocked(res object, ifMatch string) (*record, bool, error) {
	typ := str(res, "resourceType")
	var ep Endpoint
	if typ == "Subscription" {
		res["status"] = "active"
		var err error
		if ep, err = endpointFromSubscription(res); err != nil {
			return nil, false, err
		}
	}
	if typ == "Task" {
		if err := validateTask(res); err != nil {
			return nil, false, err
		}
		if _, err := s.liveLocked("Patient", strings.TrimPrefix(patientOf(obj(res, "for")), "Patient/")); err != nil {
			return nil, false, fmt.Errorf("%w: Task.for: %w", errMalformed, err)
		}
	}
	rec, created, err := s.st.put(res, s.writeTime(), ifMatch)
	if err != nil {
		return nil, false, err
	}
	kind := ChangeUpdated
	if created {
		kind = ChangeCreated
	}
	s.publishLocked(rec, kind)
	switch typ {
	case "Subscription":
		s.em.add(ep)
		s.log.Info("endpoint subscribed", "endpoint", ep.ID, "format", string(ep.Format))
	case "Task":
		if st := str(res, "status"); st == "requested" || st == "received" || st == "accepted" {
			s.tasks.schedule(rec.id)
		}
	}
	return rec, created, nil
}

// remove deletes typ/id.
func (s *Server) remove(typ, id string, ifMatch string) (*record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeLocked(typ, id, ifMatch)
}

func (s *Server) removeLocked(typ, id string, ifMatch string) (*record, error) {
	var last []byte
	if rec := s.st.get(typ, id); rec != nil {
		last = rec.body
	}
	rec, deleted, err := s.st.remove(typ, id, s.writeTime(), ifMatch)
	if err != nil || !deleted {
		return rec, err
	}
	c := s.changeOf(rec, ChangeDeleted)
	c.body = last
	s.em.publish(c)
	if typ == "Subscription" {
		s.em.remove(id)
	}
	return rec, nil
}

func (s *Server) changeOf(rec *record, kind string) Change {
	return Change{
		Type: kind, ResourceType: rec.typ, ID: rec.id,
		VersionID: rec.tag(), Patient: rec.patient,
		LastUpdated: rec.lastUpdated, At: s.now(), body: rec.body,
	}
}

func (s *Server) publishLocked(rec *record, kind string) Change {
	return s.em.publish(s.changeOf(rec, kind))
}

// errUnknown is returned by the Go mutation methods for a missing id.
var errUnknown = errors.New("no such resource")

func (s *Server) liveLocked(typ, id string) (*record, error) {
	rec := s.st.get(typ, id)
	if rec == nil || rec.deleted {
		return nil, fmt.Errorf("mockphp: %s/%s: %w", typ, id, errUnknown)
	}
	return rec, nil
}
