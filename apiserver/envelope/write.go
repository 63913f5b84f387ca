package envelope

import (
	"encoding/json"
	"net/http"
)

// Pagination is the list envelope's paging block.
type Pagination struct {
	NextCursor *string `json:"next_cursor"`
	HasMore    bool    `json:"has_more"`
	TotalCount int     `json:"total_count"`
}

type dataEnvelope struct {
	Data any `json:"data"`
}

type listEnvelope struct {
	Data       any        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

type errorEnvelope struct {
	Error *Error `json:"error"`
}

// WriteData writes `{"data": v}` with the given status.
func WriteData(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, dataEnvelope{Data: v})
}

// WriteList writes a list page. A nil items slice is written as [].
func WriteList[T any](w http.ResponseWriter, items []T, p Pagination) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, listEnvelope{Data: items, Pagination: p})
}

// WriteRawList writes a list page whose items are already JSON, joined by commas: the
// read model renders each object once, not once per request.
func WriteRawList(w http.ResponseWriter, items [][]byte, p Pagination) {
	page, _ := json.Marshal(p) // a struct of plain fields always marshals
	size := len(`{"data":[],"pagination":}\n`) + len(page) + len(items)
	for _, it := range items {
		size += len(it)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, `{"data":[`...)
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, it...)
	}
	buf = append(buf, `],"pagination":`...)
	buf = append(buf, page...)
	buf = append(buf, '}', '\n')
	writeBytes(w, http.StatusOK, buf)
}

// WriteRawData writes `{"data": raw}` around an object rendered to JSON earlier.
func WriteRawData(w http.ResponseWriter, status int, raw []byte) {
	buf := make([]byte, 0, len(raw)+len(`{"data":}`)+1)
	buf = append(buf, `{"data":`...)
	buf = append(buf, raw...)
	buf = append(buf, '}', '\n')
	writeBytes(w, status, buf)
}

// WriteError writes an error envelope with its status and headers.
func WriteError(w http.ResponseWriter, e *Error) {
	e.setHeaders(w.Header())
	writeJSON(w, e.Status(), errorEnvelope{Error: e})
}

// WriteNoContent writes 204 with no body.
func WriteNoContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a bug can get here: every envelope is made of marshalable types.
		body, status = []byte(`{"error":{"code":"INTERNAL_ERROR","message":"Internal server error"}}`), http.StatusInternalServerError
	}
	writeBytes(w, status, append(body, '\n'))
}

// WriteBody writes body, a JSON document made earlier (a recorded answer), with the headers
// every JSON answer carries.
func WriteBody(w http.ResponseWriter, status int, body []byte) { writeBytes(w, status, body) }

func writeBytes(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
