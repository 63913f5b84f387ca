package apiserver_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium starts Debian's chromium headless, with a fresh profile and nothing running in the
// background, and returns a tab. The test fails, never skips, when chromium is missing: the
// test setup (hack/test-deps.sh) installs it. record sees every event of the tab.
func chromium(t *testing.T, ctx context.Context, width, height int, record func(ev any)) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (Debian's chromium package; make test-deps installs it): %v", err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithListener(record))
	t.Cleanup(cancelTab)
	return tab
}

// browserLog records what a tab requested and every error it reported.
type browserLog struct {
	mu       sync.Mutex
	requests []string
	errors   []string
}

func (b *browserLog) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *network.EventLoadingFailed:
		b.errors = append(b.errors, fmt.Sprintf("loading failed: %s %s", ev.ErrorText, ev.BlockedReason))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.errors = append(b.errors, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		b.errors = append(b.errors, "exception: "+ev.ExceptionDetails.Text+" "+exceptionText(ev.ExceptionDetails))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			b.errors = append(b.errors, fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

func (b *browserLog) check(t *testing.T, origin string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(b.errors, "\n"))
	}
	if len(b.requests) < 4 {
		t.Errorf("requests: %v (the page, its script, its stylesheet and the graph at least)", b.requests)
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("a request to another host: %s", u)
		}
	}
}

// The shared page in a real browser: it draws every node of the JSON with no error and no
// request elsewhere, a click on a theme or a finding shows its quotes, and it draws pixels.
func TestSharedGraphPageInChromium(t *testing.T) {
	f := newGraphFixture(t, backends(t)[0], "graphpage")
	var link shareLinkBody
	call(t, "POST", "/api/v1/campaigns/"+f.campaign.ID+"/graph/share", f.tn.secret, nil).expect(t, 201).data(t, &link)
	want := decodeGraph(t, publicGet(t, clientFrom("127.0.0.67"), api.URL, "/api/v1/shared/graphs/"+*link.Token).expect(t, 200))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var bl browserLog
	tab := chromium(t, ctx, 1280, 800, bl.record)

	if err := chromedp.Do(tab, chromedp.Navigate(*link.URL), chromedp.WaitReady(chromedp.CSS(`body[data-state="ready"]`))); err != nil {
		t.Fatalf("load %s: %v (%v)", *link.URL, err, bl.errors)
	}
	counts, err := chromedp.Run(tab, chromedp.Evaluate[[]int](`[
		Number(document.getElementById('graph').getAttribute('data-node-count')),
		document.querySelectorAll('#graph g.node').length,
		document.querySelectorAll('#graph line').length]`))
	if err != nil {
		t.Fatal(err)
	}
	if counts[0] != len(want.Nodes) || counts[1] != len(want.Nodes) || counts[2] != len(want.Edges) {
		t.Fatalf("drawn %v (data-node-count, nodes, edges), the JSON has %d nodes and %d edges", counts, len(want.Nodes), len(want.Edges))
	}
	title, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`#title`)))
	if err != nil || title != f.campaign.Title {
		t.Fatalf("title %q (%v)", title, err)
	}

	// A click on the theme shows its quotes, with who said them (anonymously).
	for _, tc := range []struct {
		selector, id string
		quotes       []string
	}{
		{`#graph g.node[data-type="theme"] circle`, "theme:" + string(f.theme.ID), f.quotes[:2]},
		{`#graph g.node[data-type="finding"] circle`, "finding:" + string(f.pain.ID), f.quotes[1:]},
	} {
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(tc.selector)),
			chromedp.WaitVisible(chromedp.CSS(`#panel[data-node="`+tc.id+`"] blockquote`))); err != nil {
			t.Fatalf("click %s: %v", tc.selector, err)
		}
		text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`#panel`)))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range tc.quotes {
			if !strings.Contains(text, q) {
				t.Fatalf("the panel of %s lacks %q: %s", tc.id, q, text)
			}
		}
		if !strings.Contains(text, "Participant 2") {
			t.Fatalf("the panel names no participant: %s", text)
		}
	}

	shot, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if colours := distinctColours(t, shot); colours < 8 {
		t.Fatalf("the screenshot has %d colours: blank", colours)
	}

	// On a phone: the same graph, and the panel opens over it.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(*link.URL), chromedp.WaitReady(chromedp.CSS(`body[data-state="ready"]`)),
		chromedp.Click(chromedp.CSS(`#graph g.node[data-type="theme"] circle`)),
		chromedp.WaitVisible(chromedp.CSS(`#panel blockquote`))); err != nil {
		t.Fatalf("phone: %v", err)
	}
	layout, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`(() => {
		const p = document.getElementById('panel').getBoundingClientRect();
		const page = document.documentElement;
		return [p.width, p.top, page.clientWidth, page.clientHeight, page.scrollWidth];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if layout[0] != layout[2] || layout[1] < layout[3]/3 || layout[4] > layout[2] {
		t.Fatalf("phone layout (panel width, panel top, page width, height, scroll width): %v", layout)
	}
	bl.check(t, api.URL)
}

// distinctColours counts the colours of a PNG, up to 1000.
func distinctColours(t *testing.T, raw []byte) int {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[4]uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y && len(seen) < 1000; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X && len(seen) < 1000; x += 2 {
			r, g, b, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, b, a}] = true
		}
	}
	return len(seen)
}
