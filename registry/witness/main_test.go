package witness

import (
	"testing"

	"github.com/credence/credence/internal/testredis"
)

// TestMain stops the private redis-server the Redis tests may start.
func TestMain(m *testing.M) { testredis.Main(m) }
