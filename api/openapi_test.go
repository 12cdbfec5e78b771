package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard/api"
)

var (
	specOnce   sync.Once
	spec       *openapi3.T
	specRouter routers.Router
	specErr    error
)

func loadSpec(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		b, err := os.ReadFile("openapi.json")
		if err != nil {
			specErr = err
			return
		}
		spec, specErr = openapi3.NewLoader().LoadFromData(b)
		if specErr != nil {
			return
		}
		if specErr = spec.Validate(context.Background()); specErr != nil {
			return
		}
		spec.Servers = nil // match requests to any host
		specRouter, specErr = gorillamux.NewRouter(spec)
	})
	if specErr != nil {
		t.Fatalf("openapi.json: %v", specErr)
	}
	return spec, specRouter
}

// checkAgainstSpec validates a response the server gave against the OpenAPI document: status
// documented, body matching its schema. Every request of the API tests goes through it.
func checkAgainstSpec(t *testing.T, req *http.Request, body string, r response) {
	t.Helper()
	_, router := loadSpec(t)
	route, params, err := router.FindRoute(req)
	if err != nil {
		if r.Status == 404 || r.Status == 405 {
			return // undocumented routes and methods answer 404/405 by design
		}
		t.Errorf("%s %s is not in openapi.json: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Body:    io.NopCloser(bytes.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d does not match openapi.json: %v\nbody: %s", req.Method, req.URL.Path, r.Status, err, r.Body)
	}
}

// TestOpenAPIMatchesRoutes keeps the document true: every route the server has is documented
// and every documented operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, _ := loadSpec(t)
	s, err := api.NewServer(api.Server{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	var routed []string
	chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == "HEAD" || method == "OPTIONS" {
			return nil
		}
		routed = append(routed, method+" "+strings.ReplaceAll(route, "/*", ""))
		return nil
	})
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(routed)
	sort.Strings(documented)
	if strings.Join(routed, "\n") != strings.Join(documented, "\n") {
		t.Errorf("routes and openapi.json differ\nrouted:\n  %s\ndocumented:\n  %s",
			strings.Join(routed, "\n  "), strings.Join(documented, "\n  "))
	}
}

func TestOpenAPIServed(t *testing.T) {
	ta := newTestAPI(t)
	r := ta.do("GET", "/api/v1/openapi.json", "", "Authorization", "")
	want, _ := os.ReadFile("openapi.json")
	if r.Status != 200 || !bytes.Equal(r.Body, want) {
		t.Errorf("GET /api/v1/openapi.json: %d, %d bytes", r.Status, len(r.Body))
	}
}
