/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Bun's Windows executables under
 * Wine 8 only (CI smoke test, deploy.md §2.2). Bun's runtime imports exactly one function from
 * it, ProcessPrng, which Wine 8 does not provide: without this DLL the exe exits with 53 before
 * any JavaScript runs. Never ship it; real Windows has the genuine DLL.
 *
 * ProcessPrng fills a buffer from the system CSPRNG and is documented to always succeed. We
 * forward to advapi32!SystemFunction036 (RtlGenRandom), which Wine implements on top of the
 * host's random source. RtlGenRandom takes a 32-bit length, so large requests go in chunks.
 */
#include <windows.h>

__declspec(dllimport) BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    const SIZE_T chunk = 0x10000000;
    while (length > 0) {
        ULONG part = (ULONG)(length < chunk ? length : chunk);
        if (!SystemFunction036(data, part)) {
            /* ProcessPrng has no failure return callers check; failing loudly beats weak keys */
            RaiseException(0xE0000001, EXCEPTION_NONCONTINUABLE, 0, NULL);
        }
        data += part;
        length -= part;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
