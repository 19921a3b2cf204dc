/* libFuzzer target: certificate parsing from untrusted bytes. A TLS peer controls the chain
 * it presents and an operator controls --tls-cert-file / --client-ca-file; the input goes
 * through every entry point that parses them (PEM or DER), against a fixed CA. Must never
 * crash, leak or accept: nothing a fuzzer builds is signed by the CA generated here. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"

static struct pki_keypair ca;
static struct pki_trust *trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct pki_cert_spec spec = {.kind = PKI_CERT_CA, .common_name = "fuzz-ca"};
    if (pki_issue(&spec, NULL, &ca, NULL) < 0 ||
        pki_trust_new(ca.cert_pem, strlen(ca.cert_pem), &trust, NULL) < 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    struct kos_error *err = NULL;
    struct pki_identity id = {0};
    int r = pki_verify_client_cert(trust, s, size, &id, &err);
    if (r == 0)
        abort(); /* the fuzzer cannot forge the CA's signature */
    if (id.user || (r != -ENOMEM && !err))
        abort();
    kos_error_free(err);

    struct pki_trust *t = NULL;
    if (pki_trust_new(s, size, &t, NULL) == 0)
        pki_trust_free(t);

    const char *sans[] = {"127.0.0.1", "localhost", "::1"};
    bool covered = false;
    pki_cert_covers_sans(s, size, sans, 3, &covered, NULL);
    pki_check_keypair(s, size, ca.key_pem, strlen(ca.key_pem), "fuzz", NULL);
    pki_check_keypair(ca.cert_pem, strlen(ca.cert_pem), s, size, "fuzz", NULL);
    free(s);
    return 0;
}
