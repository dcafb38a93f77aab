namespace Jepa.Runtime.Schedules;

/// <summary>How the learning rate (and the weight decay) move over training; see <see cref="TrainingSchedule"/>.</summary>
public enum LrScheduleKind
{
    /// <summary>No warm-up; the learning-rate and weight-decay ramps are followed linearly (constant when Start equals End).</summary>
    Constant,

    /// <summary>
    /// I-JEPA's recipe: linear warm-up from StartLr to the peak learning rate, then a half cosine down to FinalLr;
    /// the weight decay follows a half cosine from its ramp's Start to its End.
    /// </summary>
    WarmupCosine,
}
