package mockphp

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// A document request is a Task the client creates:
//
//	{"resourceType":"Task","status":"requested","intent":"order",
//	 "for":{"reference":"Patient/…"},
//	 "code":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
//	 "input":[{"type":{"text":"document type"},
//	           "valueCodeableConcept":{"coding":[{"system":"http://loinc.org","code":"11506-3"}]}}]}
//
// After Config.TaskDelay the server creates one document for each
// requested LOINC document type it knows (11502-2, 11506-3, 34117-2; a
// progress note when none is named), each notifying as any change does,
// and completes the Task with an output referencing every new
// DocumentReference.

// taskQueue holds the Tasks waiting to be fulfilled.
type taskQueue struct {
	s    *Server
	mu   sync.Mutex
	due  map[string]time.Time
	wake chan struct{}
}

func newTaskQueue(s *Server) *taskQueue {
	return &taskQueue{s: s, due: map[string]time.Time{}, wake: make(chan struct{}, 1)}
}

func (q *taskQueue) schedule(id string) {
	q.mu.Lock()
	q.due[id] = time.Now().Add(q.s.cfg.TaskDelay)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *taskQueue) start(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			wait := time.Hour
			q.mu.Lock()
			now := time.Now()
			var ready []string
			for id, at := range q.due {
				if !at.After(now) {
					ready = append(ready, id)
				} else {
					wait = min(wait, at.Sub(now))
				}
			}
			q.mu.Unlock()
			slices.Sort(ready)
			for _, id := range ready {
				q.fulfill(id)
			}
			if len(ready) > 0 {
				continue
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-q.wake:
			case <-t.C:
			}
			t.Stop()
		}
	}()
}

// FulfillTasks fulfils every pending document request now, without waiting
// for TaskDelay, and returns the Task ids it completed.
func (s *Server) FulfillTasks() []string {
	s.tasks.mu.Lock()
	ids := make([]string, 0, len(s.tasks.due))
	for id := range s.tasks.due {
		ids = append(ids, id)
	}
	s.tasks.mu.Unlock()
	slices.Sort(ids)
	var done []string
	for _, id := range ids {
		if s.tasks.fulfill(id) {
			done = append(done, id)
		}
	}
	return done
}

func (q *taskQueue) fulfill(id string) bool {
	q.mu.Lock()
	_, ok := q.due[id]
	delete(q.due, id)
	q.mu.Unlock()
	if !ok {
		return false
	}
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.liveLocked("Task", id)
	if err != nil {
		return false
	}
	task, err := decodeResource(rec.body)
	if err != nil {
		return false
	}
	switch str(task, "status") {
	case "requested", "received", "accepted":
	default:
		return false // cancelled or already handled meanwhile
	}
	patientID := rec.patient[len("Patient/"):]
	var outputs []any
	for _, kind := range requestedKinds(task) {
		info, err := s.createDocumentLocked(patientID, kind)
		if err != nil {
			s.log.Warn("task fulfilment failed", "task", id, "error", err)
			task["status"] = "failed"
			task["statusReason"] = concept(err.Error())
			break
		}
		outputs = append(outputs, object{
			"type":           concept("DocumentReference"),
			"valueReference": reference("DocumentReference/"+info.ID, info.Title),
		})
	}
	if str(task, "status") != "failed" {
		task["status"] = "completed"
		task["businessStatus"] = concept("documents available")
		task["output"] = outputs
	}
	task["lastModified"] = formatInstant(s.now())
	if _, _, err := s.commitLocked(task, ""); err != nil {
		s.log.Warn("task update failed", "task", id, "error", err)
		return false
	}
	s.log.Info("task fulfilled", "task", id, "documents", len(outputs))
	return true
}

func requestedKinds(task object) []DocumentKind {
	var kinds []DocumentKind
	add := func(cc object) {
		for _, t := range codings(cc) {
			if k, ok := kindOfLOINC(t.value); ok && !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	add(obj(task, "code"))
	for _, in := range arr(task, "input") {
		if m, ok := in.(object); ok {
			add(obj(m, "valueCodeableConcept"))
		}
	}
	if len(kinds) == 0 {
		kinds = []DocumentKind{KindProgressNote}
	}
	return kinds
}

// validateTask checks what fulfilment needs: a status, an intent and a
// patient.
func validateTask(res object) error {
	if str(res, "status") == "" || str(res, "intent") == "" {
		return fmt.Errorf("%w: Task needs status and intent", errMalformed)
	}
	if patientOf(obj(res, "for")) == "" {
		return fmt.Errorf("%w: Task.for must reference a Patient", errMalformed)
	}
	return nil
}
