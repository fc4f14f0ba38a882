package metrics

import (
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("zone %s: %v", name, err)
	}
	return loc
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLatestWithoutData: with no bucket to learn from, the period a run
// reports is the previous local day (or half hour) in the zone, whatever its
// offset was in 1970 and whatever daylight saving does.
func TestLatestWithoutData(t *testing.T) {
	cases := []struct {
		name, zone string
		g          Granularity
		at         string
		start, end string // RFC 3339, compared as instants
	}{
		// Singapore was UTC+7:30 in 1970: the 1970 offset put periods at 00:30.
		{"Singapore daily", "Asia/Singapore", Daily, "2026-11-24T09:00:00+08:00", "2026-11-23T00:00:00+08:00", "2026-11-24T00:00:00+08:00"},
		{"Shanghai daily", "Asia/Shanghai", Daily, "2026-11-24T09:00:00+08:00", "2026-11-23T00:00:00+08:00", "2026-11-24T00:00:00+08:00"},
		{"at a boundary the bucket just ended counts", "Asia/Singapore", Daily, "2026-11-24T00:00:00+08:00", "2026-11-23T00:00:00+08:00", "2026-11-24T00:00:00+08:00"},
		{"a millisecond before it does not", "Asia/Singapore", Daily, "2026-11-23T23:59:59.999+08:00", "2026-11-22T00:00:00+08:00", "2026-11-23T00:00:00+08:00"},
		// London kept UTC+1 all year in 1970: the 1970 offset put winter periods at 23:00.
		{"London winter", "Europe/London", Daily, "2026-01-15T09:00:00Z", "2026-01-14T00:00:00Z", "2026-01-15T00:00:00Z"},
		{"London summer", "Europe/London", Daily, "2026-07-15T09:00:00+01:00", "2026-07-14T00:00:00+01:00", "2026-07-15T00:00:00+01:00"},
		{"London spring forward: a 23-hour day", "Europe/London", Daily, "2026-03-30T09:00:00+01:00", "2026-03-29T00:00:00Z", "2026-03-30T00:00:00+01:00"},
		{"London fall back: a 25-hour day", "Europe/London", Daily, "2026-10-26T09:00:00Z", "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00Z"},
		{"New York spring forward", "America/New_York", Daily, "2026-03-09T09:00:00-04:00", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"},
		{"New York fall back", "America/New_York", Daily, "2026-11-02T09:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"New York half hour across the jump", "America/New_York", HalfHour, "2026-03-08T03:10:00-04:00", "2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"New York half hour in the repeated hour", "America/New_York", HalfHour, "2026-11-01T01:45:00-05:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00"},
		{"Kolkata daily (+5:30)", "Asia/Kolkata", Daily, "2026-11-24T09:00:00+05:30", "2026-11-23T00:00:00+05:30", "2026-11-24T00:00:00+05:30"},
		{"Kolkata half hour", "Asia/Kolkata", HalfHour, "2026-11-24T10:45:00+05:30", "2026-11-24T10:00:00+05:30", "2026-11-24T10:30:00+05:30"},
		{"Kathmandu half hour (+5:45)", "Asia/Kathmandu", HalfHour, "2026-11-24T10:50:00+05:45", "2026-11-24T10:00:00+05:45", "2026-11-24T10:30:00+05:45"},
		{"Singapore half hour", "Asia/Singapore", HalfHour, "2026-11-24T09:00:00+08:00", "2026-11-24T08:30:00+08:00", "2026-11-24T09:00:00+08:00"},
		{"UTC", "UTC", Daily, "2026-11-24T09:00:00+08:00", "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := GridFor(c.g, zone(t, c.zone)).Latest(ts(t, c.at))
			if !w.Start.Equal(ts(t, c.start)) || !w.End.Equal(ts(t, c.end)) {
				t.Errorf("Latest(%s) in %s = %s, want %s–%s", c.at, c.zone, w, c.start, c.end)
			}
		})
	}
}

// TestNilZoneIsUTC: no zone at all means UTC midnights.
func TestNilZoneIsUTC(t *testing.T) {
	w := GridFor(Daily, nil).Latest(ts(t, "2026-11-24T09:00:00+08:00"))
	if want := ts(t, "2026-11-23T00:00:00Z"); !w.Start.Equal(want) {
		t.Errorf("start %s, want %s", w.Start, want)
	}
}

// TestLocalDaysAreContiguous walks back a year of local days and half hours:
// each window ends where the next one starts, and lasts a local day (23 to 25
// hours) or 30 minutes, including zones that change at midnight.
func TestLocalDaysAreContiguous(t *testing.T) {
	for _, name := range []string{"Europe/London", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu"} {
		loc := zone(t, name)
		for _, c := range []struct {
			g        Granularity
			n        int
			min, max time.Duration
		}{
			{Daily, 400, 23 * time.Hour, 25 * time.Hour},
			{HalfHour, 2 * 24 * 200, 30 * time.Minute, 30 * time.Minute},
		} {
			grid := GridFor(c.g, loc)
			latest := grid.Latest(ts(t, "2026-12-31T12:00:00Z"))
			prev := latest
			for i := 1; i <= c.n; i++ {
				w := grid.Back(latest, i)
				if !w.End.Equal(prev.Start) {
					t.Fatalf("%s %s: Back(%d) = %s does not end where Back(%d) = %s starts", name, c.g, i, w, i-1, prev)
				}
				if d := w.End.Sub(w.Start); d < c.min || d > c.max {
					t.Fatalf("%s %s: Back(%d) = %s lasts %s", name, c.g, i, w, d)
				}
				if again := grid.Latest(w.End); again != w {
					t.Fatalf("%s %s: Latest(%s) = %s, want %s", name, c.g, w.End, again, w)
				}
				prev = w
			}
		}
	}
}

func daily(starts ...string) *Series {
	s := &Series{Key: Key{Template: "T", Language: "en"}, Granularity: Daily}
	for _, st := range starts {
		start, _ := time.Parse(time.RFC3339, st)
		s.Periods = append(s.Periods, Period{Start: start, End: start.Add(24 * time.Hour), Sent: 1})
	}
	return s
}

// TestGridFromData: buckets in the data decide the grid, whatever the zone.
func TestGridFromData(t *testing.T) {
	cases := []struct {
		name   string
		series []*Series
		want   time.Duration
	}{
		{"Shanghai midnights", []*Series{daily("2026-11-20T16:00:00Z", "2026-11-21T16:00:00Z")}, 16 * time.Hour},
		{"the most common offset wins", []*Series{daily("2026-11-20T16:00:00Z", "2026-11-21T16:00:00Z"), daily("2026-11-21T00:00:00Z")}, 16 * time.Hour},
		{"a tie goes to the smaller offset", []*Series{daily("2026-11-20T16:00:00Z"), daily("2026-11-21T00:00:00Z")}, 0},
		{"before 1970", []*Series{daily("1969-12-30T16:00:00Z")}, 16 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := GridFor(Daily, zone(t, "Europe/London"), c.series...)
			if g.Loc != nil || g.Offset != c.want || g.Step != 24*time.Hour {
				t.Fatalf("grid %+v, want offset %s from the data", g, c.want)
			}
		})
	}
	g := GridFor(Daily, zone(t, "Europe/London"), daily("2026-11-20T16:00:00Z"))
	w := g.Latest(ts(t, "2026-11-24T01:00:00Z"))
	if !w.Start.Equal(ts(t, "2026-11-22T16:00:00Z")) || !w.End.Equal(ts(t, "2026-11-23T16:00:00Z")) {
		t.Errorf("Latest = %s, want the Shanghai day 22 Nov 16:00Z–23 Nov 16:00Z", w)
	}
	if b := g.Back(w, 2); !b.Start.Equal(ts(t, "2026-11-20T16:00:00Z")) || !b.End.Equal(ts(t, "2026-11-21T16:00:00Z")) {
		t.Errorf("Back(2) = %s", b)
	}
	if b := g.Back(w, 0); b != w {
		t.Errorf("Back(0) = %s, want %s", b, w)
	}
	early := g.Latest(ts(t, "1969-12-31T20:00:00Z"))
	if !early.End.Equal(ts(t, "1969-12-31T16:00:00Z")) {
		t.Errorf("before 1970: Latest = %s", early)
	}
}
