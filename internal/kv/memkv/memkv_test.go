package memkv_test

import (
	"testing"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/kvtest"
	"github.com/credence/credence/internal/kv/memkv"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(*testing.T) kv.Store { return memkv.New() })
}
