package main

import (
	"testing"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/db"
)

func openForTest(t *testing.T, dbc config.DB) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(dbc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	})
	return gdb
}
