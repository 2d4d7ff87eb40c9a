package main

import (
	_ "github.com/gin-gonic/gin"
	_ "github.com/pin/tftp/v3"
	_ "golang.org/x/sync/errgroup"
	_ "gorm.io/driver/sqlite"
	_ "gorm.io/gorm"
)

func main() {}
