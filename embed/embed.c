/*
 * embed.c — build-time asset embedder. Turns files into a generated C table
 * (sorted by path) of bytes, length, content type, strong ETag (SHA-256
 * prefix) and a gzip copy when that is smaller.
 *
 * usage: embed SYMBOL OUT.c ROOT...
 *   ROOT is a directory (paths relative to it) or a file (its base name).
 * Threading: a single-threaded build tool.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

struct file {
    char *path; /* relative, '/'-separated */
    char *full;
};

static struct file *files;
static size_t nfiles, capfiles;

__attribute__((noreturn)) static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "embed: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(1);
}

static void add_file(const char *rel, const char *full)
{
    if (nfiles == capfiles) {
        capfiles = capfiles ? capfiles * 2 : 64;
        files = realloc(files, capfiles * sizeof *files);
        if (!files) die("out of memory", NULL);
    }
    files[nfiles].path = strdup(rel);
    files[nfiles].full = strdup(full);
    nfiles++;
}

static void walk(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) die("cannot open directory", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char full[4096], rel[4096];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (prefix[0])
            snprintf(rel, sizeof rel, "%s/%s", prefix, e->d_name);
        else
            snprintf(rel, sizeof rel, "%s", e->d_name);
        struct stat st;
        if (stat(full, &st) != 0) die("cannot stat", full);
        if (S_ISDIR(st.st_mode))
            walk(full, rel);
        else if (S_ISREG(st.st_mode))
            add_file(rel, full);
    }
    closedir(d);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
        {".sql", "text/plain; charset=utf-8"},
        {".yaml", "application/yaml"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot read", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read", path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static unsigned char *gzip(const unsigned char *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, len) + 32;
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        free(out);
        return NULL;
    }
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

static void emit_bytes(FILE *o, const char *name, const unsigned char *d, size_t n)
{
    fprintf(o, "static const unsigned char %s[%zu] = {", name, n ? n : 1);
    if (n == 0) fputs("0", o);
    for (size_t i = 0; i < n; i++) {
        if (i % 20 == 0) fputs("\n", o);
        fprintf(o, "%u,", d[i]);
    }
    fputs("\n};\n", o);
}

int main(int argc, char **argv)
{
    if (argc < 4) die("usage: embed SYMBOL OUT.c ROOT...", NULL);
    const char *sym = argv[1], *outpath = argv[2];
    for (int i = 3; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) die("no such file or directory", argv[i]);
        if (S_ISDIR(st.st_mode)) {
            walk(argv[i], "");
        } else {
            const char *base = strrchr(argv[i], '/');
            add_file(base ? base + 1 : argv[i], argv[i]);
        }
    }
    qsort(files, nfiles, sizeof *files, cmp);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", outpath);
    FILE *o = fopen(tmp, "w");
    if (!o) die("cannot write", tmp);
    fprintf(o, "/* Generated by embed/embed.c: do not edit, do not commit. */\n");
    fprintf(o, "#include <stddef.h>\n#include \"portico/assets.h\"\n\n");
    size_t *lens = calloc(nfiles + 1, sizeof *lens), *gzlens = calloc(nfiles + 1, sizeof *gzlens);
    if (!lens || !gzlens) die("out of memory", NULL);
    for (size_t i = 0; i < nfiles; i++) {
        size_t len, gzlen = 0;
        unsigned char *data = read_all(files[i].full, &len);
        unsigned char *gz = gzip(data, len, &gzlen);
        unsigned char md[32];
        unsigned int mdlen = 0;
        EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
        char name[64];
        snprintf(name, sizeof name, "%s_d%zu", sym, i);
        emit_bytes(o, name, data, len);
        lens[i] = len;
        if (gz && gzlen + 64 < len) {
            snprintf(name, sizeof name, "%s_z%zu", sym, i);
            emit_bytes(o, name, gz, gzlen);
            gzlens[i] = gzlen;
        }
        fprintf(o, "static const char %s_e%zu[] = \"\\\"", sym, i);
        for (int k = 0; k < 16; k++) fprintf(o, "%02x", md[k]);
        fprintf(o, "\\\"\";\n");
        free(data);
        free(gz);
    }
    fprintf(o, "\nconst struct embedded_file %s[] = {\n", sym);
    for (size_t i = 0; i < nfiles; i++) {
        const char *p = files[i].path;
        fprintf(o, "    {\"");
        for (; *p; p++) {
            if (*p == '"' || *p == '\\') fputc('\\', o);
            fputc(*p, o);
        }
        if (gzlens[i])
            fprintf(o, "\", %s_d%zu, %zu, %s_z%zu, %zu, \"%s\", %s_e%zu},\n", sym, i, lens[i], sym,
                    i, gzlens[i], content_type(files[i].path), sym, i);
        else
            fprintf(o, "\", %s_d%zu, %zu, NULL, 0, \"%s\", %s_e%zu},\n", sym, i, lens[i],
                    content_type(files[i].path), sym, i);
    }
    if (nfiles == 0) fprintf(o, "    {NULL, NULL, 0, NULL, 0, NULL, NULL},\n");
    fprintf(o, "};\nconst size_t %s_count = %zu;\n", sym, nfiles);
    if (fclose(o) != 0) die("cannot write", tmp);
    if (rename(tmp, outpath) != 0) die("cannot rename", tmp);
    free(lens);
    free(gzlens);
    return 0;
}
