package healthcare

import "strings"

// FHIR identifier and code systems of the domain.
const (
	SystemNPI      = "http://hl7.org/fhir/sid/us-npi"
	SystemDEA      = "urn:oid:2.16.840.1.113883.4.814"
	SystemNUCC     = "http://nucc.org/provider-taxonomy"
	SystemV2_0360  = "http://terminology.hl7.org/CodeSystem/v2-0360"
	npiPrefixTotal = 24 // Luhn sum of the prefix 80840, as the NPI standard gives it
)

// ValidNPI reports whether s is a National Provider Identifier: 10 digits,
// the first 1 or 2, the last the Luhn check digit over "80840" and the
// first nine (1234567893 is valid).
func ValidNPI(s string) bool {
	if !npiShape(s) {
		return false
	}
	return luhnNPI(s[:9]) == s[9]-'0'
}

// npiShape reports whether s looks like an NPI, check digit aside.
func npiShape(s string) bool {
	return len(s) == 10 && (s[0] == '1' || s[0] == '2') && digits(s)
}

// luhnNPI is the check digit of nine NPI digits: Luhn, starting the
// doubling at the rightmost digit, plus the constant for the prefix 80840.
func luhnNPI(nine string) byte {
	sum := npiPrefixTotal
	for i := 0; i < 9; i++ {
		d := int(nine[8-i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte((10 - sum%10) % 10)
}

// NPICheckDigit returns the check digit that completes nine digits into an
// NPI; ok is false unless nine is nine digits starting with 1 or 2.
func NPICheckDigit(nine string) (digit byte, ok bool) {
	if len(nine) != 9 || (nine[0] != '1' && nine[0] != '2') || !digits(nine) {
		return 0, false
	}
	return '0' + luhnNPI(nine), true
}

// deaTypeLetters are the DEA registrant-type letters: A, B, F, G
// practitioners and institutions; M mid-level practitioners; C, D, E, H,
// J, K, L, P, R, S, T, U, X the other registrant types (manufacturers,
// distributors, researchers, narcotic treatment programs, ...).
const deaTypeLetters = "ABCDEFGHJKLMPRSTUX"

// ValidDEA reports whether s is a DEA registration number: a registrant-type
// letter, the registrant's initial (or 9), six digits and the check digit,
// the last digit of (d1+d3+d5) + 2·(d2+d4+d6) (AB1234563 is valid).
func ValidDEA(s string) bool {
	return deaShape(s) && strings.IndexByte(deaTypeLetters, s[0]) >= 0 && deaCheckDigit(s[2:8]) == s[8]
}

// deaShape reports whether s is two letters (the second may be 9) and
// seven digits, the schema's pattern.
func deaShape(s string) bool {
	return len(s) == 9 && upper(s[0]) && (upper(s[1]) || s[1] == '9') && digits(s[2:])
}

// deaCheckDigit is the DEA check digit of six digits, as an ASCII digit.
func deaCheckDigit(six string) byte {
	odd := int(six[0]-'0') + int(six[2]-'0') + int(six[4]-'0')
	even := int(six[1]-'0') + int(six[3]-'0') + int(six[5]-'0')
	return '0' + byte((odd+2*even)%10)
}

// DEACheckDigit returns the check digit that completes six digits into a
// DEA number; ok is false unless six is six digits.
func DEACheckDigit(six string) (digit byte, ok bool) {
	if len(six) != 6 || !digits(six) {
		return 0, false
	}
	return deaCheckDigit(six), true
}

// states are the USPS codes of the states, DC and the territories, the
// usState enumeration of the schemas.
var states = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA
		ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA
		WA WV WI WY PR GU VI AS MP`) {
		m[s] = true
	}
	return m
}()

// ValidState reports whether s is the USPS code of a US state, DC or a
// territory (PR, GU, VI, AS, MP).
func ValidState(s string) bool { return states[s] }

// ValidTaxonomy reports whether s has the shape of a NUCC Health Care
// Provider Taxonomy code: 10 characters, three digits, six digits or
// capitals, then X (207R00000X).
func ValidTaxonomy(s string) bool {
	if len(s) != 10 || !digits(s[:3]) || s[9] != 'X' {
		return false
	}
	for i := 3; i < 9; i++ {
		if !upper(s[i]) && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func upper(c byte) bool { return c >= 'A' && c <= 'Z' }
