package watch

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/credence/credence/did"
)

// checkWebhook accepts an absolute https URL with a host, without user
// info or fragment, printable ASCII, at most MaxWebhookBytes; http and
// private or loopback hosts only when the Service allows private addresses.
// (The HTTP client refuses private addresses again when it connects, after
// name resolution.)
func (s *Service) checkWebhook(raw string) error {
	if err := checkWebhook(raw, s.allowPrivate); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidWebhook, err)
	}
	return nil
}

func checkWebhook(raw string, allowPrivate bool) error {
	if len(raw) > MaxWebhookBytes {
		return fmt.Errorf("longer than %d bytes", MaxWebhookBytes)
	}
	if strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
		return fmt.Errorf("must be printable ASCII (percent-encode the rest)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	switch {
	case u.Scheme != "https" && !(allowPrivate && u.Scheme == "http"):
		return fmt.Errorf("must be an https URL")
	case !strings.HasPrefix(raw, u.Scheme+"://") || u.Opaque != "":
		return fmt.Errorf("must be an absolute URL")
	case u.Hostname() == "":
		return fmt.Errorf("must have a host")
	case u.User != nil:
		return fmt.Errorf("must not carry user credentials")
	case strings.Contains(raw, "#"):
		return fmt.Errorf("must not have a fragment")
	case !allowPrivate && privateHost(u.Hostname()):
		return fmt.Errorf("must not point to a private or loopback address")
	}
	return nil
}

// privateHost reports names and literal addresses that are never public:
// localhost names and the addresses did.PublicAddr refuses.
func privateHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && !did.PublicAddr(ip)
}

// signature is the Standard Webhooks v1 signature of a delivery: base64
// HMAC-SHA256 of "id.timestamp.body".
func signature(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// newSecret makes the watch's secret and keeps it (sealed when possible).
func (s *Service) newSecret(r *record) (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := secretPrefix + base64.StdEncoding.EncodeToString(b[:])
	if s.sealer == nil {
		r.Secret = secret
		return secret, nil
	}
	sealed, err := s.sealer.Seal([]byte(secret), secretAAD(r.Verifier, r.ID))
	if err != nil {
		return "", fmt.Errorf("failed to seal the webhook secret: %w", err)
	}
	r.Secret, r.Sealed = base64.StdEncoding.EncodeToString(sealed), true
	return secret, nil
}

func secretAAD(verifier, id string) []byte {
	return []byte("credence/watch/secret/v1\x00" + verifier + "\x00" + id)
}

// signingKey returns the HMAC key of the watch: the bytes of its secret.
func (s *Service) signingKey(r *record) ([]byte, error) {
	secret := r.Secret
	if r.Sealed {
		if s.sealer == nil {
			return nil, errors.New("the webhook secret is sealed and no sealer is configured")
		}
		sealed, err := base64.StdEncoding.DecodeString(r.Secret)
		if err != nil {
			return nil, err
		}
		plain, err := s.sealer.Open(sealed, secretAAD(r.Verifier, r.ID))
		if err != nil {
			return nil, fmt.Errorf("failed to open the webhook secret: %w", err)
		}
		secret = string(plain)
	}
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
}
