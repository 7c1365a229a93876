package healthcare_test

import (
	"testing"

	"github.com/credence/credence/vc/healthcare"
)

func TestValidNPI(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1234567893", true}, // DOMAIN.md
		{"1952183238", true}, // the examples' practitioner
		{"1735522728", true}, // the examples' facility
		{"1234567890", false},
		{"1234567894", false},
		{"0234567893", false}, // first digit must be 1 or 2
		{"323456789", false},
		{"12345678930", false},
		{"12345678a3", false},
		{"", false},
		{"１234567893", false}, // non-ASCII digit
	}
	for _, tt := range tests {
		if got := healthcare.ValidNPI(tt.in); got != tt.want {
			t.Errorf("ValidNPI(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestValidNPIMutations: Luhn catches every single-digit error and every
// transposition of adjacent digits other than 0 and 9.
func TestValidNPIMutations(t *testing.T) {
	const good = "1234567893"
	for i := 0; i < len(good); i++ {
		for d := byte('0'); d <= '9'; d++ {
			if d == good[i] {
				continue
			}
			m := []byte(good)
			m[i] = d
			if healthcare.ValidNPI(string(m)) {
				t.Errorf("ValidNPI(%s) = true, one digit off %s", m, good)
			}
		}
		if i+1 < len(good) && good[i] != good[i+1] {
			m := []byte(good)
			m[i], m[i+1] = m[i+1], m[i]
			if healthcare.ValidNPI(string(m)) {
				t.Errorf("ValidNPI(%s) = true, a transposition of %s", m, good)
			}
		}
	}
}

func TestNPICheckDigit(t *testing.T) {
	if d, ok := healthcare.NPICheckDigit("123456789"); !ok || d != '3' {
		t.Errorf("NPICheckDigit(123456789) = %c, %v, want 3, true", d, ok)
	}
	for _, bad := range []string{"", "12345678", "023456789", "12345678x"} {
		if _, ok := healthcare.NPICheckDigit(bad); ok {
			t.Errorf("NPICheckDigit(%q) ok", bad)
		}
	}
}

func TestValidDEA(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"AB1234563", true}, // DOMAIN.md
		{"BA5808211", true}, // the examples' registration
		{"FS1234563", true},
		{"MA1234563", true}, // mid-level practitioner
		{"A91234563", true}, // 9 for a business name without an initial letter
		{"AB1234564", false},
		{"AB1234536", false},
		{"ZB1234563", false}, // not a registrant type
		{"IB1234563", false},
		{"Ab1234563", false},
		{"AB123456", false},
		{"AB12345630", false},
		{"1B1234563", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := healthcare.ValidDEA(tt.in); got != tt.want {
			t.Errorf("ValidDEA(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestValidDEAMutations: any change of the check digit, and any change of
// a digit weighted 1, is caught.
func TestValidDEAMutations(t *testing.T) {
	const good = "AB1234563"
	for _, i := range []int{2, 4, 6, 8} {
		for d := byte('0'); d <= '9'; d++ {
			if d == good[i] {
				continue
			}
			m := []byte(good)
			m[i] = d
			if healthcare.ValidDEA(string(m)) {
				t.Errorf("ValidDEA(%s) = true, one digit off %s", m, good)
			}
		}
	}
}

func TestDEACheckDigit(t *testing.T) {
	if d, ok := healthcare.DEACheckDigit("123456"); !ok || d != '3' {
		t.Errorf("DEACheckDigit(123456) = %c, %v, want 3, true", d, ok)
	}
	if _, ok := healthcare.DEACheckDigit("12345a"); ok {
		t.Error("DEACheckDigit(12345a) ok")
	}
}

func TestValidState(t *testing.T) {
	for _, s := range []string{"AZ", "CA", "DC", "PR", "GU", "VI", "AS", "MP", "WY"} {
		if !healthcare.ValidState(s) {
			t.Errorf("ValidState(%q) = false", s)
		}
	}
	for _, s := range []string{"", "XX", "az", "AZ ", "US", "AA", "ARIZONA"} {
		if healthcare.ValidState(s) {
			t.Errorf("ValidState(%q) = true", s)
		}
	}
}

func TestValidTaxonomy(t *testing.T) {
	for _, s := range []string{"207R00000X", "207Q00000X", "363LF0000X", "2084P0800X", "208000000X"} {
		if !healthcare.ValidTaxonomy(s) {
			t.Errorf("ValidTaxonomy(%q) = false", s)
		}
	}
	for _, s := range []string{"", "207R0000X", "207R00000Y", "207r00000X", "20AR00000X", "207R00000XX"} {
		if healthcare.ValidTaxonomy(s) {
			t.Errorf("ValidTaxonomy(%q) = true", s)
		}
	}
}
