using Jepa.Dsl.Formatting;

namespace Jepa.Dsl.Tests.Formatting;

/// <summary>The formatter as a language service (the <c>jepa fmt</c> command's own tests run it through the command).</summary>
public class FormatterTests
{
    private static string Format(string text) => JepaFormatter.Format(JepaCompiler.Compile("f.jepa", text).Syntax)!;

    [Fact]
    public void Canonical_form_of_a_messy_file()
    {
        const string messy = """
            // header comment
            namespace   My.Models ;
            experiment   Messy{
              input image :float[ 1,8 ,8 ];


               corruption c=random_crop( scale:0.6 .. 1.0 )then gaussian_noise(std:0.1) ;
            encoder   context = conv(channels:[ 8,16 ],kernel:3,out:32);   // the encoder
                encoder target=ema( context , momentum : 0.99->1.0 );
              predictor=mlp(hidden:[64]);
              objective{ predict target(image) from context(c(image)); loss mse*2; }
              train { optimizer adamw(lr:1e-3); batch 64; steps 10;
                seed 3; }
              evaluate { knn(k: 5);   /* block comment */ }
              monitor {
                collapse(min_std: 0.01,   // inside a statement: kept as written
                         every: 10);
              }
            }   // end
            """;
        const string expected = """
            // header comment
            namespace My.Models;

            experiment Messy {
                input image: float[1, 8, 8];

                corruption c = random_crop(scale: 0.6..1.0) then gaussian_noise(std: 0.1);
                encoder context = conv(channels: [8, 16], kernel: 3, out: 32);  // the encoder
                encoder target = ema(context, momentum: 0.99 -> 1.0);
                predictor = mlp(hidden: [64]);
                objective { predict target(image) from context(c(image)); loss mse * 2; }
                train {
                    optimizer adamw(lr: 1e-3); batch 64; steps 10;
                    seed 3;
                }
                evaluate {
                    knn(k: 5);  /* block comment */
                }
                monitor {
                    collapse(min_std: 0.01,   // inside a statement: kept as written
                         every: 10);
                }
            }  // end

            """;

        var formatted = Format(messy);

        Assert.Equal(expected.ReplaceLineEndings("\n"), formatted);
        Assert.Equal(formatted, Format(formatted));
    }

    [Fact]
    public void Crlf_files_keep_their_line_ends()
    {
        var formatted = Format("experiment E {\r\n  input image: float[64];\r\n}\r\n");

        Assert.Equal("experiment E {\r\n    input image: float[64];\r\n}\r\n", formatted);
    }

    [Fact]
    public void A_file_with_a_syntax_error_is_not_formatted()
    {
        Assert.Null(JepaFormatter.Format(JepaCompiler.Compile("f.jepa", "experiment E {\n    input image float[64];\n}\n").Syntax));
    }

    [Fact]
    public void Same_code_ignores_white_space_but_not_code_or_comment_text()
    {
        Assert.True(JepaFormatter.SameCode("experiment E { input x: float[2]; } // c", "experiment E {\n    input x: float[2];\n}  // c\n"));
        Assert.False(JepaFormatter.SameCode("experiment E { input x: float[2]; }", "experiment E { input x: float[3]; }"));
        Assert.False(JepaFormatter.SameCode("experiment E { } // a", "experiment E { } // b"));
    }
}
