package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"qual.cx/operator/internal/store"
)

// excerptLen caps the response excerpt kept in the delivery log.
const excerptLen = 256

// outcome is what one HTTP attempt came to.
type outcome struct {
	status     int // 0 when no response arrived
	duration   time.Duration
	err        string
	excerpt    string
	retryAfter time.Duration
	at         time.Time
	// held is an attempt stopped before anything was sent because the endpoint is unsendable.
	held bool
}

func (o outcome) ok() bool { return o.status >= 200 && o.status < 300 }

// post signs the event for the endpoint and sends it once.
func (s *Service) post(ctx context.Context, ep Endpoint, ev store.Event) outcome {
	at := s.now()
	o := outcome{at: at}
	body, err := Body(ev)
	if err == nil && len(body) > s.cfg.MaxPayload {
		err = fmt.Errorf("the payload is %d bytes, over the %d-byte cap", len(body), s.cfg.MaxPayload)
	}
	if why := ep.unsendable(); err == nil && why != "" {
		o.held, err = true, errors.New(why)
	}
	if err == nil && s.cfg.CheckURL != nil {
		err = s.cfg.CheckURL(ep.URL)
	}
	var h http.Header
	if err == nil {
		h, err = Sign(ep.Secrets, string(ev.ID), at, body)
	}
	if err != nil {
		o.err = err.Error()
		return o
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		o.err = "the endpoint URL cannot be requested: " + err.Error()
		return o
	}
	req.Header = h
	start := time.Now()
	resp, err := s.cfg.Client.Do(req)
	o.duration = time.Since(start)
	if err != nil {
		o.err = describe(err)
		return o
	}
	defer func() { _ = resp.Body.Close() }()
	// HTTP has no status outside 100-599: such an answer is no valid response, and the log
	// (whose status_code is 100-599) records none.
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		o.err = fmt.Sprintf("the endpoint answered an invalid HTTP status (%d)", resp.StatusCode)
		return o
	}
	o.status = resp.StatusCode
	o.retryAfter = RetryAfter(resp.Header, at)
	o.excerpt = excerpt(resp.Body)
	_, _ = io.Copy(io.Discard, resp.Body) // the client caps it; draining keeps the connection
	o.duration = time.Since(start)        // to the end of the answer, which a slow body holds
	if !o.ok() {
		o.err = "the endpoint answered " + strings.TrimSpace(resp.Status)
	}
	return o
}

// describe turns a transport error into a line for the delivery log: without the request's
// method and URL (the log is the endpoint's already), and a timeout said plainly.
func describe(err error) string {
	var ue *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ue) && ue.Timeout():
		return "no answer within the attempt timeout"
	case ue != nil:
		return ue.Err.Error()
	}
	return err.Error()
}

// excerpt reads the start of a response as printable UTF-8.
func excerpt(r io.Reader) string {
	buf := make([]byte, excerptLen)
	n, _ := io.ReadFull(r, buf)
	b := bytes.ToValidUTF8(buf[:n], []byte("?"))
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, string(b))
}
