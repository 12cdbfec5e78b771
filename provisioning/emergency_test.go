package provisioning

import (
	"slices"
	"testing"

	"github.com/switchboard-pbx/switchboard"
)

func TestEmergencyNumbers(t *testing.T) {
	got := EmergencyNumbers([]switchboard.OutboundRoute{
		{Name: "national", Patterns: []switchboard.DialPattern{{Prefix: "9", Match: "0X."}}, Trunks: []string{"a"}},
		{Name: "sos", Emergency: true, Trunks: []string{"a", "b"}, Patterns: []switchboard.DialPattern{
			{Match: "112"}, {Prefix: "9", Match: "112"}, {Match: "11X"}, {Prefix: "*", Match: "999"}}},
		{Name: "sos2", Emergency: true, Trunks: []string{"c"}, Patterns: []switchboard.DialPattern{{Match: "112"}, {Match: "911", Prepend: "1"}}},
	})
	want := []EmergencyNumber{
		{Number: "112", Dial: "PJSIP/112@trunk-a&PJSIP/112@trunk-b"},
		{Number: "9112", Dial: "PJSIP/112@trunk-a&PJSIP/112@trunk-b"},
		{Number: "911", Dial: "PJSIP/1911@trunk-c"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("emergency numbers:\n%v\nwant\n%v", got, want)
	}
}
