package merkle

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func hashOf(s string) tlog.Hash { return tlog.RecordHash([]byte(s)) }

func TestCheckpointRoundTrip(t *testing.T) {
	var ones tlog.Hash
	for i := range ones {
		ones[i] = 0xff
	}
	tests := []struct {
		name string
		c    Checkpoint
		want string // expected Marshal output, if set
	}{
		{"empty tree", Checkpoint{Origin: "example.com/log", Size: 0, Root: sha256Empty()},
			"example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"},
		{"one", Checkpoint{Origin: "o", Size: 1, Root: hashOf("a")}, ""},
		{"max size", Checkpoint{Origin: "o", Size: math.MaxUint64, Root: ones},
			"o\n18446744073709551615\n//////////////////////////////////////////8=\n"},
		{"extensions", Checkpoint{Origin: "log.example/x", Size: 42, Root: hashOf("b"), Extensions: []string{"Timestamp: 1700000000", "— ext with unicode"}}, ""},
		{"origin with spaces (allowed by C2SP)", Checkpoint{Origin: "go.sum database tree", Size: 7, Root: hashOf("c")}, ""},
		{"unicode origin", Checkpoint{Origin: "例え.jp/ログ", Size: 9, Root: hashOf("d")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.c.Marshal()
			if tt.want != "" && string(text) != tt.want {
				t.Fatalf("Marshal = %q, want %q", text, tt.want)
			}
			got, err := ParseCheckpoint(text)
			if err != nil {
				t.Fatalf("ParseCheckpoint(%q): %v", text, err)
			}
			if !reflect.DeepEqual(got, tt.c) {
				t.Fatalf("round trip = %+v, want %+v", got, tt.c)
			}
			if !bytes.Equal(got.Marshal(), text) {
				t.Fatalf("re-Marshal differs")
			}
		})
	}
}

func sha256Empty() tlog.Hash {
	h, err := TreeRoot(nil, 0)
	if err != nil {
		panic(err)
	}
	return h
}

func TestParseCheckpointExamples(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Checkpoint
	}{
		{
			// The example in https://c2sp.org/tlog-checkpoint.
			name: "C2SP tlog-checkpoint",
			text: "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
			want: Checkpoint{Origin: "example.com/behind-the-sofa", Size: 20852163, Root: mustHash(t, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")},
		},
		{
			// The Go checksum database's tree note (golang.org/x/mod/sumdb/tlog tests).
			name: "go.sum database tree",
			text: "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
			want: Checkpoint{Origin: "go.sum database tree", Size: 123456789012, Root: tlog.RecordHash([]byte("hello world"))},
		},
		{
			name: "extension lines",
			text: "example.com/log\n4027504\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nTimestamp: 1689748607742585419\nanother one\n",
			want: Checkpoint{Origin: "example.com/log", Size: 4027504, Root: mustHash(t, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
				Extensions: []string{"Timestamp: 1689748607742585419", "another one"}},
		},
		{
			name: "empty tree",
			text: "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
			want: Checkpoint{Origin: "example.com/log", Size: 0, Root: sha256Empty()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCheckpoint([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if string(got.Marshal()) != tt.text {
				t.Fatalf("Marshal = %q, want %q", got.Marshal(), tt.text)
			}
		})
	}
}

func mustHash(t *testing.T, s string) tlog.Hash {
	t.Helper()
	h, err := tlog.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseCheckpointRejects(t *testing.T) {
	const root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
	zero := base64.StdEncoding.EncodeToString(make([]byte, 32)) // "AAAA…A="
	ones := strings.Repeat("/", 42) + "8="
	tests := []struct{ name, text string }{
		{"empty", ""},
		{"newline only", "\n"},
		{"origin only", "o\n"},
		{"no root line", "o\n5\n"},
		{"missing final newline", "o\n5\n" + root},
		{"empty origin", "\n5\n" + root + "\n"},
		{"empty size", "o\n\n" + root + "\n"},
		{"empty root", "o\n5\n\n"},
		{"size leading zero", "o\n05\n" + root + "\n"},
		{"size double zero", "o\n00\n" + root + "\n"},
		{"size plus", "o\n+5\n" + root + "\n"},
		{"size minus", "o\n-5\n" + root + "\n"},
		{"size leading space", "o\n 5\n" + root + "\n"},
		{"size trailing space", "o\n5 \n" + root + "\n"},
		{"size hex", "o\n0x5\n" + root + "\n"},
		{"size underscore", "o\n1_000\n" + root + "\n"},
		{"size exponent", "o\n1e3\n" + root + "\n"},
		{"size decimal point", "o\n5.0\n" + root + "\n"},
		{"size overflow", "o\n18446744073709551616\n" + root + "\n"},
		{"size non-ASCII digit", "o\n٥\n" + root + "\n"},
		{"root not base64", "o\n5\n!!!!\n"},
		{"root hex", "o\n5\n0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62\n"},
		{"root 31 bytes", "o\n5\n" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n"},
		{"root 33 bytes", "o\n5\n" + base64.StdEncoding.EncodeToString(make([]byte, 33)) + "\n"},
		{"root unpadded", "o\n5\n" + strings.TrimSuffix(root, "=") + "\n"},
		{"root non-canonical trailing bits", "o\n5\n" + zero[:42] + "B=\n"},
		{"root URL-safe alphabet", "o\n5\n" + strings.ReplaceAll(ones, "/", "_") + "\n"},
		{"root with CR inside", "o\n5\n" + root[:10] + "\r" + root[10:] + "\n"},
		{"root with space", "o\n5\n" + root + " \n"},
		{"empty extension line", "o\n5\n" + root + "\n\next\n"},
		{"trailing blank line", "o\n5\n" + root + "\n\n"},
		{"trailing garbage without newline", "o\n5\n" + root + "\nextra"},
		{"CRLF line endings", "o\r\n5\r\n" + root + "\r\n"},
		{"NUL in origin", "o\x00\n5\n" + root + "\n"},
		{"tab in extension", "o\n5\n" + root + "\na\tb\n"},
		{"invalid UTF-8", "o\xff\n5\n" + root + "\n"},
		{"signed note, not a body", "o\n5\n" + root + "\n\n— o AAAAAQ==\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCheckpoint([]byte(tt.text))
			if err == nil {
				t.Fatalf("ParseCheckpoint(%q) = %+v, want error", tt.text, c)
			}
			if !errors.Is(err, ErrBadCheckpoint) {
				t.Fatalf("error %v does not wrap ErrBadCheckpoint", err)
			}
		})
	}
}
