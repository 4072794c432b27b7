package store

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/riverqueue/river"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Periodic is work a cluster does on a schedule: once per Every across all
// the store handles on one database, however many processes run, because
// only River's elected leader enqueues it. Any one process then runs it, as
// a job of the periodic queue.
//
// Every handle on the database should be opened with the same tasks: the
// leader, whichever it is, schedules the tasks it was opened with, and a
// handle that does not know a task cannot run it.
type Periodic struct {
	// Name identifies the task in job arguments and logs: letters, digits,
	// "_", "-" and "."; unique among a store's tasks, and stable across
	// releases, since it keys the task's schedule.
	Name string
	// Every is the interval. A task whose Every is zero or negative is not
	// scheduled.
	Every time.Duration
	// Run does the work. It is given the engine the store was started
	// with. An error is retried with the engine's backoff, up to three
	// attempts, and then listed among the dead letters; the next interval
	// runs the task again regardless.
	Run func(ctx context.Context, e *connector.Engine) error
}

// QueuePeriodic is the queue periodic tasks run on.
const QueuePeriodic = "hr_periodic"

// periodicAttempts bounds the attempts of one run of a periodic task: the
// next interval brings another run anyway.
const periodicAttempts = 3

var periodicName = regexp.MustCompile(`\A[A-Za-z0-9][A-Za-z0-9_.-]*\z`)

// periodicArgs is the River job of one run of a periodic task.
type periodicArgs struct {
	Task string `json:"task"`
}

// Kind implements river.JobArgs.
func (periodicArgs) Kind() string { return "hr_periodic" }

// periodicJobs checks tasks and turns those with an interval into River
// periodic jobs.
//
// Each job is unique by task and by interval-long period (aligned to the
// Unix epoch, in UTC). That is what keeps a task to about one run per
// interval when leadership moves: River's scheduler keeps its schedule in
// memory, so a newly elected leader starts it afresh, and runs each task
// once at once (RunOnStart) so that a restart more often than the interval
// does not starve a task with a long one; the uniqueness skips that run
// when the period already had one. (River keeps completed jobs for a day,
// so for intervals over a day a restart may bring a run early.)
func periodicJobs(tasks []Periodic) (map[string]Periodic, []*river.PeriodicJob, error) {
	byName := make(map[string]Periodic, len(tasks))
	var jobs []*river.PeriodicJob
	for _, p := range tasks {
		switch {
		case !periodicName.MatchString(p.Name):
			return nil, nil, fmt.Errorf("periodic task name %q: letters, digits, _ - and . only", p.Name)
		case p.Run == nil:
			return nil, nil, fmt.Errorf("periodic task %s has no Run", p.Name)
		}
		if _, dup := byName[p.Name]; dup {
			return nil, nil, fmt.Errorf("periodic task %s named twice", p.Name)
		}
		byName[p.Name] = p
		if p.Every <= 0 {
			continue
		}
		if p.Every < time.Second {
			return nil, nil, fmt.Errorf("periodic task %s: interval %s is under a second", p.Name, p.Every)
		}
		args, every := periodicArgs{Task: p.Name}, p.Every
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) {
				return args, &river.InsertOpts{
					Queue:       QueuePeriodic,
					MaxAttempts: periodicAttempts,
					UniqueOpts:  river.UniqueOpts{ByArgs: true, ByPeriod: every},
				}
			},
			&river.PeriodicJobOpts{ID: "hr_periodic_" + p.Name, RunOnStart: true}))
	}
	return byName, jobs, nil
}

// periodicWorker runs one run of a periodic task.
type periodicWorker[TTx any] struct {
	river.WorkerDefaults[periodicArgs]
	s *Store[TTx]
}

func (w *periodicWorker[TTx]) Work(ctx context.Context, j *river.Job[periodicArgs]) error {
	p, ok := w.s.periodic[j.Args.Task]
	if !ok {
		// Scheduled by a leader of another release, during a rolling
		// upgrade: a retry may land on a process that knows it.
		return fmt.Errorf("store: periodic task %q is not known to this process", j.Args.Task)
	}
	e := w.s.currentEngine()
	if e == nil {
		return fmt.Errorf("store: periodic task %s: no engine", p.Name)
	}
	start := time.Now()
	if err := p.Run(ctx, e); err != nil {
		w.s.cfg.Logger.WarnContext(ctx, "periodic task failed", "task", p.Name, "job", j.ID, "attempt", j.Attempt, "err", err)
		return fmt.Errorf("periodic task %s: %w", p.Name, err)
	}
	w.s.cfg.Logger.DebugContext(ctx, "periodic task done", "task", p.Name, "job", j.ID, "duration_ms", time.Since(start).Milliseconds())
	return nil
}
