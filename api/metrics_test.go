package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-pbx/switchboard/api"
)

// /metrics is open, behind the admin token, or not on the API's listener at all.
func TestMetricsAccess(t *testing.T) {
	for _, c := range []struct {
		access          api.MetricsAccess
		anonymous, auth int
	}{
		{api.MetricsOpen, 200, 200},
		{api.MetricsToken, 401, 200},
		{api.MetricsElsewhere, 404, 404},
	} {
		s, err := api.NewServer(api.Server{Token: token, Registry: prometheus.NewRegistry(), Metrics: c.access})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		get := func(withToken bool) int {
			req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
			if withToken {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := get(false); got != c.anonymous {
			t.Errorf("%q: /metrics without the token: %d, want %d", c.access, got, c.anonymous)
		}
		if got := get(true); got != c.auth {
			t.Errorf("%q: /metrics with the token: %d, want %d", c.access, got, c.auth)
		}
		srv.Close()
	}
}
