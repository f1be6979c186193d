# reference/test-support/build.mk: objects that test and measurement programs
# link (not the library).  Included by reference/build.mk.

TS_INC       := reference/test-support
TS_ALLOC_OBJ := $(B)/obj/test-support/alloc-count.o

$(TS_ALLOC_OBJ): reference/test-support/alloc-count.c reference/test-support/alloc-count.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
