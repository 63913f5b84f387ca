package devprocs

import "testing"

// The command name in /proc/PID/stat may hold spaces and parentheses.
func TestParseStat(t *testing.T) {
	stat := "4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 18446744073709551615"
	p, err := parseStat(4242, stat)
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != 4242 || p.PPID != 17 || p.State != 'S' || p.StartTime != 987654 {
		t.Errorf("parseStat = %+v", p)
	}
	if _, err := parseStat(1, "1 (x) S 0"); err == nil {
		t.Error("a short stat line parsed")
	}
}
