package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// replay runs dead letters again. Every id is checked before any is
// replayed, so a mistyped id among several replays none.
func replay(ctx context.Context, s storeurl.Store, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("replay JOB_ID...: %w", errUsage)
	}
	ids := make([]int64, len(args))
	for i, a := range args {
		id, err := jobID(a)
		if err != nil {
			return err
		}
		if _, err := s.DeadLetter(ctx, id); err != nil {
			return err
		}
		ids[i] = id
	}
	for _, id := range ids {
		if err := s.Replay(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "job %d queued again\n", id)
	}
	return nil
}

func jobID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("job id %q is not a number: %w", s, errUsage)
	}
	return id, nil
}
