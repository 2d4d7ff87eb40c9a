#!version:1.0.0.1
include:config "y000000000123.cfg"
include:config "0015651a2b3c.cfg"
overwrite_mode = 1
