/* Every enum tb_err value has its own text. */
#include "check.h"
#include "error.h"

int main(void)
{
        for (int e = 0; e < TB_E__COUNT; e++) {
                const char *s = tb_strerror((enum tb_err)e);
                CHECK(s != NULL && strcmp(s, "unknown error") != 0);
                for (int f = 0; f < e; f++)
                        CHECK(strcmp(s, tb_strerror((enum tb_err)f)) != 0);
        }
        CHECK(strcmp(tb_strerror(TB_E__COUNT), "unknown error") == 0);
        return check_done("test_error");
}
