package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/models"
)

func keySpec(t *testing.T) string {
	raw := make([]byte, 32)
	rand.Read(raw)
	return "k1:" + base64.StdEncoding.EncodeToString(raw)
}

// Finding (fault runs, setup): every replica must use the same data key. A
// replica whose key cannot open existing sealed data refuses to start with
// a clear message, instead of failing on each read.
func TestF0ReplicaWithAnotherDataKeyRefusesToStart(t *testing.T) {
	keyA, keyB := keySpec(t), keySpec(t)
	env := apptest.New(t, func(c *config.Config) { c.EncryptionKeys = keyA })
	cfg, a := env.App.Config, env.App
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ring, _ := crypto.ParseKeys(keyA)
	id := uuid.Must(uuid.NewV7()).String()
	dob, _ := ring.Seal("1980-02-03", "patient:"+id+":dob")
	now := time.Now().UTC()
	owner, _ := env.CreateUser(models.RoleStoryteller)
	if err := a.DB.Create(&models.Patient{ID: id, FullName: "Maria Lopez", DOBSealed: dob, CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		t.Fatal(err)
	}

	other := *cfg
	other.EncryptionKeys = keyB
	_, err := app.New(context.Background(), &other, quiet)
	if !errors.Is(err, app.ErrDataKeyMismatch) || !strings.Contains(err.Error(), "Every replica must use the same data keys") || strings.Contains(err.Error(), "1980") {
		t.Fatalf("a replica with another key started or said %v", err)
	}
	same := *cfg
	b, err := app.New(context.Background(), &same, quiet)
	if err != nil {
		t.Fatalf("a replica with the same key must start: %v", err)
	}
	b.Close()
}
