package node

import (
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/lolwut"
)

func registerLolwut(t table) {
	t.add(&Command{Name: "lolwut", Arity: -1, Flags: fReadonly | fFast, Run: cmdLolwut, Group: "server"})
}

// cmdLolwut is LOLWUT [VERSION v] [args]: version 5 draws Schotter (with
// cols, squares per row and per column, clamped as Redis clamps them);
// other versions print the version line, as Redis 7.0's default does.
// Version 6's skyscrapers are not drawn (the version line instead).
func cmdLolwut(c *Ctx) {
	args := c.Args[1:]
	ver := int64(7)
	if len(args) >= 2 && eq(args[0], "version") {
		v, ok := keyspace.ParseInt(args[1])
		if !ok {
			c.Err(errNotInt)
			return
		}
		ver = int64(uint32(v)) // Redis prints it as unsigned int
		args = args[2:]
	}
	if ver != 5 {
		c.Verbatim("Redis ver. " + Version + "\n")
		return
	}
	dims := []int64{66, 8, 12}
	limits := [][2]int64{{1, 1000}, {1, 200}, {1, 200}}
	for i := range dims {
		if i < len(args) {
			n, ok := keyspace.ParseInt(args[i])
			if !ok {
				c.Err(errNotInt)
				return
			}
			dims[i] = n
		}
		dims[i] = min(max(dims[i], limits[i][0]), limits[i][1])
	}
	art := lolwut.Schotter(int(dims[0]), int(dims[1]), int(dims[2]))
	c.Verbatim(art + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. " + Version + "\n")
}
