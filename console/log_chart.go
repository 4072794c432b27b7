package console

import (
	"context"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// chartDays is how many days the sync log's chart shows: the last of the
// filtered range, or up to today.
const chartDays = 14

// logChartView is the sync log's events per day by status: a table,
// which charts.js draws as the chart beside it.
type logChartView struct {
	From, To time.Time
	Series   []chartSeries
	Rows     []chartRow
	// Any: some day has an entry.
	Any bool
}

type chartSeries struct {
	Status connector.Status
	Stroke string
	Dash   string
}

type chartRow struct {
	Day    time.Time
	Unix   int64
	Counts []int
	Total  int
}

// Each status has its colour and its dash, so that the lines differ by
// more than colour; the table beside says the same in words.
var chartSeriesOf = []chartSeries{
	{connector.StatusSuccess, "#1b5e20", ""},
	{connector.StatusError, "#b00020", "6 3"},
	{connector.StatusSkipped, "#6d4c00", "2 3"},
	{connector.StatusIgnored, "#455a64", "10 4 2 4"},
}

// logChart counts the log's entries per day under the list's filters,
// over the last chartDays days of its range (of today's, when the range
// is open).
func (c *Console) logChart(ctx context.Context, a practice.Actor, in practice.LogList, now time.Time) (logChartView, error) {
	to := in.To
	if to.IsZero() {
		to = now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	from := to.AddDate(0, 0, -chartDays)
	if in.From.After(from) {
		from = in.From
	}
	in.From, in.To, in.Cursor, in.Limit = from, to, "", 0
	days, err := c.svc.LogsPerDay(ctx, a, in)
	if err != nil {
		return logChartView{}, err
	}
	v := logChartView{From: from, To: to.AddDate(0, 0, -1), Series: chartSeriesOf, Rows: make([]chartRow, len(days))}
	for i, d := range days {
		row := chartRow{Day: d.Day, Unix: d.Day.Unix(), Counts: make([]int, len(chartSeriesOf))}
		for j, s := range chartSeriesOf {
			row.Counts[j] = d.Counts[s.Status]
			row.Total += row.Counts[j]
		}
		v.Any = v.Any || row.Total > 0
		v.Rows[i] = row
	}
	return v, nil
}
