/* Fuzzes the WebSocket decoder: every byte a client sends after an exec/attach/port-forward
 * upgrade goes through it. The input is cut into feeds at points the first bytes choose. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/remotecommand.h"
#include "stream/websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct ws_decoder d;
    /* small bounds so that the size checks are reached */
    ws_decoder_init(&d, data[0] & 1, 4096, 8192);
    size_t step = data[1] ? data[1] : 1;
    data += 2;
    size -= 2;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        if (ws_decoder_feed(&d, data + off, n) < 0)
            break;
        struct ws_message m;
        int r;
        while ((r = ws_decoder_next(&d, &m)) == 1) {
            if (m.len > 8192 || (m.opcode >= WS_OP_CLOSE && m.len > WS_MAX_CONTROL))
                abort();
            if (m.len > 1 && m.data[0] == RC_CH_RESIZE) {
                unsigned w, h;
                rc_parse_resize(m.data + 1, m.len - 1, &w, &h);
            }
        }
        if (r < 0)
            break;
    }
    ws_decoder_free(&d);
    return 0;
}
