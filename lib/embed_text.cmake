# Turns a text file into a C string constant `entseg_schema_sql` (used for schemas/store.sql).
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUT} "/* generated from ${IN}: do not edit */\nconst char entseg_schema_sql[] = {${bytes} 0x00};\n")
