package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// SIPp's statistics file: the last line's non-zero cumulative Failed* counters say why calls
// failed.
func TestSIPpFailures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats.csv")
	csv := "StartTime;FailedCall(P);FailedCall(C);FailedMaxUDPRetrans(P);FailedMaxUDPRetrans(C);FailedUnexpectedMessage(P);FailedUnexpectedMessage(C);\n" +
		"x;0;0;0;0;0;0;\n" +
		"x;1;7;0;6;1;1;\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	got := sippFailures(path)
	want := map[string]int{"FailedCall": 7, "FailedMaxUDPRetrans": 6, "FailedUnexpectedMessage": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sippFailures = %v, want %v", got, want)
	}
	if got := sippFailures(filepath.Join(t.TempDir(), "missing.csv")); got != nil {
		t.Errorf("missing file: %v, want nil", got)
	}
}
