/* Teardown of a unit test's temp directory: tmpdir_remove deletes dir and all it holds,
 * deepest first, following no symlink; errors are ignored (a teardown has no one to tell). */
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static inline int tmpdir_remove_entry(const char *path, const struct stat *st, int flag,
                                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void tmpdir_remove(const char *dir)
{
    nftw(dir, tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
