/* kos image: a debugging front end to the node agent's image library.
 *   kos image pull REF --root-dir DIR [--policy P] [--username U --password P]
 *                      [--rootfs CONTAINER_DIR] [--snapshotter auto|overlay|copy]
 *   kos image rootfs-remove CONTAINER_DIR
 * Prints the resolved image as JSON; errors print the kubelet's reason and message and exit 1. */
#include <getopt.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image/image.h"
#include "cmd/commands.h"
#include "util/json_cleanup.h"

static void usage(FILE *out)
{
    fputs("Usage: kos image pull REF --root-dir DIR [--policy Always|IfNotPresent|Never]\n"
          "                 [--username U --password P] [--pull-secret DOCKERCONFIGJSON_FILE]\n"
          "                 [--rootfs CONTAINER_DIR]\n"
          "                 [--snapshotter auto|overlay|copy]\n"
          "       kos image rootfs-remove CONTAINER_DIR\n",
          out);
}

static json_t *strv_json(char **v)
{
    if (!v)
        return json_null();
    json_t *a = json_array();
    for (char **p = v; *p; p++)
        json_array_append_new(a, json_string(*p));
    return a;
}

static int print_error(struct kos_error *err, int r)
{
    if (err)
        fprintf(stderr, "%s: %s\n", err->reason, err->message ? err->message : "");
    else
        fprintf(stderr, "error: %s\n", strerror(-r));
    return 1;
}

static int image_pull_cmd(int argc, char **argv)
{
    const char *root = NULL, *policy_s = NULL, *user = NULL, *pass = NULL, *rootfs_dir = NULL;
    const char *snap = NULL, *secret = NULL;
    static const struct option opts[] = {
        {"root-dir", required_argument, NULL, 'r'},
        {"policy", required_argument, NULL, 'p'},
        {"username", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, 'w'},
        {"rootfs", required_argument, NULL, 'f'},
        {"snapshotter", required_argument, NULL, 's'},
        {"pull-secret", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'p':
            policy_s = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 'w':
            pass = optarg;
            break;
        case 'f':
            rootfs_dir = optarg;
            break;
        case 's':
            snap = optarg;
            break;
        case 'k':
            secret = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || !root) {
        usage(stderr);
        return 2;
    }
    const char *image = argv[optind];
    enum image_pull_policy policy;
    if (image_pull_policy_parse(policy_s, &policy) < 0) {
        fprintf(stderr, "kos image pull: --policy must be Always, IfNotPresent or Never\n");
        return 2;
    }
    _cleanup_error_ struct kos_error *err = NULL;
    struct image_store *s = NULL;
    int r = image_store_open(root, &s, &err);
    if (r < 0)
        return print_error(err, r);
    if (snap && image_store_set_snapshotter(s, snap) < 0) {
        image_store_close(s);
        fprintf(stderr, "kos image pull: --snapshotter must be auto, overlay or copy\n");
        return 2;
    }
    struct image_credentials creds = {0};
    if (user) {
        /* a catch-all entry, as if it came from a secret with the image's registry */
        char *cfg = NULL;
        _cleanup_json_ json_t *j =
            json_pack("{s:{s:s,s:s}}", "", "username", user, "password", pass ? pass : "");
        cfg = j ? json_dumps(j, 0) : NULL;
        r = cfg ? image_credentials_add_docker_config(&creds, cfg, strlen(cfg), &err) : -ENOMEM;
        free(cfg);
    }
    if (r >= 0 && secret) {
        /* a file holding a .dockerconfigjson, as in an imagePullSecret */
        char *data = NULL;
        size_t len = 0;
        FILE *f = fopen(secret, "r");
        if (f) {
            data = calloc(1, 1u << 20);
            len = data ? fread(data, 1, (1u << 20) - 1, f) : 0;
            fclose(f);
        }
        r = data ? image_credentials_add_docker_config(&creds, data, len, &err) : -errno;
        free(data);
    }
    if (r < 0) {
        image_credentials_free(&creds);
        image_store_close(s);
        return print_error(err, r);
    }
    struct image_info info = {0};
    r = image_pull(s, image, policy, &creds, &info, &err);
    image_credentials_free(&creds);
    if (r < 0) {
        image_store_close(s);
        return print_error(err, r);
    }
    struct image_rootfs rf = {0};
    if (rootfs_dir) {
        r = image_rootfs_create(s, &info, rootfs_dir, &rf, &err);
        if (r < 0) {
            image_info_clear(&info);
            image_store_close(s);
            return print_error(err, r);
        }
    }
    _cleanup_json_ json_t *o = json_object();
    json_object_set_new(o, "ref", json_string(info.ref));
    json_object_set_new(o, "digest", json_string(info.digest));
    json_object_set_new(o, "imageID", json_string(info.config_digest));
    json_object_set_new(o, "repoDigest", json_string(info.repo_digest));
    json_object_set_new(o, "entrypoint", strv_json(info.entrypoint));
    json_object_set_new(o, "cmd", strv_json(info.cmd));
    json_object_set_new(o, "env", strv_json(info.env));
    json_object_set_new(o, "workingDir",
                        info.working_dir ? json_string(info.working_dir) : json_null());
    json_object_set_new(o, "user", info.user ? json_string(info.user) : json_null());
    json_object_set_new(o, "stopSignal",
                        info.stop_signal ? json_string(info.stop_signal) : json_null());
    json_t *layers = json_array();
    for (size_t i = 0; i < info.n_layers; i++)
        json_array_append_new(layers, json_string(info.layers[i]));
    json_object_set_new(o, "layers", layers);
    json_object_set_new(o, "size", json_integer((json_int_t)info.size));
    if (rootfs_dir) {
        json_object_set_new(o, "rootfs", json_string(rf.path));
        json_object_set_new(o, "overlay", json_boolean(rf.overlay));
    }
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text)
        puts(text);
    free(text);
    image_info_clear(&info);
    image_store_close(s);
    return 0;
}

int cmd_image(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "pull") == 0)
        return image_pull_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "rootfs-remove") == 0 && argc == 3) {
        int r = image_rootfs_remove(argv[2]);
        if (r < 0) {
            fprintf(stderr, "kos image rootfs-remove: %s\n", strerror(-r));
            return 1;
        }
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
