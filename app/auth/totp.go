package auth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"image/png"
	"net/url"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// NewTOTPKey creates a TOTP secret for account (an email) and returns the
// secret and a PNG QR code as a data: URL for authenticator apps.
func NewTOTPKey(issuer, account string) (secret, qrDataURL string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account})
	if err != nil {
		return "", "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", "", err
	}
	return key.Secret(), "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// ValidTOTP checks a six-digit code, allowing one step of clock drift.
func ValidTOTP(code, secret string, at time.Time) bool {
	_, ok := TOTPStep(code, secret, at)
	return ok
}

// TOTPStep checks a six-digit code, allowing one step of clock drift, and
// returns the time step (Unix seconds / 30) it belongs to, so a caller can
// accept each step's code once (F13). Later steps are tried first.
func TOTPStep(code, secret string, at time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	now := at.Unix() / 30
	for _, step := range []int64{now + 1, now, now - 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// TOTPCode returns the current code for secret (tests and tooling).
func TOTPCode(secret string, at time.Time) string {
	c, _ := totp.GenerateCode(secret, at)
	return c
}

// TOTPQR renders the QR code for an existing secret (when the enrolment form
// is shown again after a wrong code).
func TOTPQR(issuer, account, secret string) (string, error) {
	key, err := otp.NewKeyFromURL("otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?secret=" + url.QueryEscape(secret) + "&issuer=" + url.QueryEscape(issuer))
	if err != nil {
		return "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
